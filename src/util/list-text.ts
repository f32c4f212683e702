// Lists in sentences: "a", "a and b", "a, b and c"; long lists end in "N more".

export function listText(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  const shown = values.length <= 6 ? values : [...values.slice(0, 5), `${values.length - 5} more`];
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1]}`;
}
