// Request fields given as command-line flags (--devices, --size, --format, --cpu, --count, --protected).

import { InputError } from '../errors.js';
import { loadRequest, type RequestFields } from '../constraints/load.js';
import type { CpuAccess, Platform, Request } from '../constraints/model.js';

/** The flag that sets each request field: conflicts and errors name it as the field's source. */
const FLAG_OF: Record<string, string> = { width: '--size', height: '--size', formats: '--format', devices: '--devices', cpu: '--cpu', protected: '--protected', count: '--count' };

export const flagOf = (field: string): string => FLAG_OF[field] ?? `--${field}`;

/** The request from --request FILE and the flags, each field's source naming its flag. */
export function requestFromCommandLine(file: string | undefined, platform: Platform, fields: RequestFields): Request {
  return loadRequest(file, platform, fields, flagOf);
}

export const requestOptions = {
  request: { type: 'string' },
  devices: { type: 'string' },
  size: { type: 'string' },
  format: { type: 'string' },
  cpu: { type: 'string' },
  count: { type: 'string' },
  protected: { type: 'boolean' },
} as const;

export const requestHelp = `request (a file, flags, or both; flags win):
  --request FILE        YAML or JSON request
  --devices A,B         devices sharing the buffer
  --size WxH            width and height in pixels, e.g. 1920x1080
  --format F1,F2        acceptable formats, best first
  --cpu MODE            none | read | write | readwrite (default none)
  --count N             number of buffers (default 1)
  --protected           allocate protected (secure) memory`;

function list(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new InputError(`--${flag} ${JSON.stringify(value)}: must be a positive whole number`, flag, value);
  // Keep the text the user wrote: beyond 2^53 the number itself has already lost digits.
  if (!Number.isSafeInteger(Number(value))) throw new InputError(`--${flag} ${value.trim()}: is too large (more than 2^53)`, flag, value);
  return Number(value);
}

export function requestFieldsFromFlags(values: { [K in keyof typeof requestOptions]?: string | boolean }): RequestFields {
  const fields: RequestFields = {};
  if (typeof values.size === 'string') {
    const m = /^\s*(\d+)\s*[xX]\s*(\d+)\s*$/.exec(values.size);
    if (!m) throw new InputError(`--size ${JSON.stringify(values.size)}: expected WIDTHxHEIGHT, e.g. 1920x1080`, 'size', values.size);
    if (!Number.isSafeInteger(Number(m[1])) || !Number.isSafeInteger(Number(m[2]))) throw new InputError(`--size ${values.size.trim()}: is too large (more than 2^53 pixels a side)`, 'size', values.size);
    fields.width = Number(m[1]);
    fields.height = Number(m[2]);
  }
  fields.devices = list(values.devices as string | undefined);
  fields.formats = list(values.format as string | undefined);
  if (typeof values.cpu === 'string') fields.cpu = values.cpu as CpuAccess; // the schema checks the value
  fields.count = integer('count', values.count as string | undefined);
  if (values.protected === true) fields.protected = true;
  return fields;
}
