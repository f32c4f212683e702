/*
 * The baseline for issue 16: the capability-set fold of the 2018 Unix Device Memory Allocator
 * prototype, written here from its published description (no code taken from it).
 *
 * Each device answers a list of capability sets (alternatives). A set is a list of capabilities
 * (a layout, a tiling, a compression; each may be "required") and a list of constraints (address
 * alignment, pitch alignment, maximum pitch). Negotiation folds the devices pairwise: for every
 * pair of sets, one from the result so far and one from the next device, the constraints merge
 * (alignments by LCM, maximum pitch by min, a constraint only one side has is copied) and the
 * capabilities present in both (equal header and payload bytes) are kept; a required capability
 * missing on the other side kills the pair. Surviving pairs are appended in order; no ranking.
 * Every set, capability list and constraint list is its own calloc, freed after each call.
 *
 * The devices come from cases.h, generated with the udalloc profiles from one description
 * (bench/peer-fold/cases.ts). Usage: fold CASE ITERATIONS -> "<ns per negotiation> <sets found>".
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  uint32_t vendor;
  uint32_t name;
  uint32_t length; /* payload bytes */
  uint32_t required;
} header_t;

typedef struct {
  header_t header;
  uint8_t payload[];
} capability_t;

enum { CONSTRAINT_ADDRESS_ALIGNMENT = 1, CONSTRAINT_PITCH_ALIGNMENT = 2, CONSTRAINT_MAX_PITCH = 3 };

typedef struct {
  uint32_t name;
  uint32_t value;
} constraint_t;

typedef struct {
  uint32_t num_constraints;
  constraint_t *constraints;
  uint32_t num_capabilities;
  capability_t **capabilities;
} capability_set_t;

typedef struct {
  uint32_t num_sets;
  capability_set_t **sets;
} set_list_t;

/* The generated description: for each case, its devices, each a list of sets. */
typedef struct {
  uint32_t vendor, name, required, payload;
} cap_desc_t;
typedef struct {
  uint32_t num_caps;
  cap_desc_t caps[3];
  uint32_t num_constraints;
  constraint_t constraints[3];
} set_desc_t;
typedef struct {
  uint32_t num_sets;
  set_desc_t sets[8];
} device_desc_t;
typedef struct {
  const char *name;
  uint32_t num_devices;
  device_desc_t devices[4];
} case_desc_t;

#include "cases.h"

static uint32_t gcd(uint32_t a, uint32_t b) {
  while (b) {
    uint32_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static uint32_t lcm(uint32_t a, uint32_t b) { return a / gcd(a, b) * b; }

static capability_t *copy_capability(const capability_t *c) {
  capability_t *out = calloc(1, sizeof *out + c->header.length);
  memcpy(out, c, sizeof *out + c->header.length);
  return out;
}

static int same_capability(const capability_t *a, const capability_t *b) {
  return memcmp(&a->header.vendor, &b->header.vendor, 2 * sizeof(uint32_t)) == 0 && a->header.length == b->header.length &&
         memcmp(a->payload, b->payload, a->header.length) == 0;
}

static void free_set(capability_set_t *s) {
  for (uint32_t i = 0; i < s->num_capabilities; i++) free(s->capabilities[i]);
  free(s->capabilities);
  free(s->constraints);
  free(s);
}

static void free_list(set_list_t *l) {
  for (uint32_t i = 0; i < l->num_sets; i++) free_set(l->sets[i]);
  free(l->sets);
  l->sets = NULL;
  l->num_sets = 0;
}

static const capability_t *find(const capability_set_t *s, const capability_t *c) {
  for (uint32_t i = 0; i < s->num_capabilities; i++)
    if (same_capability(s->capabilities[i], c)) return s->capabilities[i];
  return NULL;
}

/* The merge of two sets, or NULL when a required capability of either is missing in the other. */
static capability_set_t *merge(const capability_set_t *a, const capability_set_t *b) {
  for (uint32_t i = 0; i < b->num_capabilities; i++)
    if (b->capabilities[i]->header.required && !find(a, b->capabilities[i])) return NULL;
  capability_set_t *out = calloc(1, sizeof *out);
  out->capabilities = calloc(a->num_capabilities ? a->num_capabilities : 1, sizeof *out->capabilities);
  for (uint32_t i = 0; i < a->num_capabilities; i++) {
    const capability_t *c = a->capabilities[i];
    if (find(b, c))
      out->capabilities[out->num_capabilities++] = copy_capability(c);
    else if (c->header.required) {
      free_set(out);
      return NULL;
    }
  }
  out->constraints = calloc(a->num_constraints + b->num_constraints + 1, sizeof *out->constraints);
  for (uint32_t i = 0; i < a->num_constraints; i++) out->constraints[out->num_constraints++] = a->constraints[i];
  for (uint32_t j = 0; j < b->num_constraints; j++) {
    constraint_t c = b->constraints[j];
    uint32_t i = 0;
    for (; i < out->num_constraints; i++) {
      if (out->constraints[i].name != c.name) continue;
      if (c.name == CONSTRAINT_MAX_PITCH)
        out->constraints[i].value = out->constraints[i].value < c.value ? out->constraints[i].value : c.value;
      else
        out->constraints[i].value = lcm(out->constraints[i].value, c.value);
      break;
    }
    if (i == out->num_constraints) out->constraints[out->num_constraints++] = c;
  }
  return out;
}

static capability_set_t *copy_set(const capability_set_t *s) {
  capability_set_t *out = calloc(1, sizeof *out);
  out->num_capabilities = s->num_capabilities;
  out->capabilities = calloc(s->num_capabilities ? s->num_capabilities : 1, sizeof *out->capabilities);
  for (uint32_t i = 0; i < s->num_capabilities; i++) out->capabilities[i] = copy_capability(s->capabilities[i]);
  out->num_constraints = s->num_constraints;
  out->constraints = calloc(s->num_constraints ? s->num_constraints : 1, sizeof *out->constraints);
  memcpy(out->constraints, s->constraints, s->num_constraints * sizeof *out->constraints);
  return out;
}

/* Folds the devices' lists into `result` (which the caller frees). */
static void negotiate(const set_list_t *devices, uint32_t num_devices, set_list_t *result) {
  result->num_sets = devices[0].num_sets;
  result->sets = calloc(result->num_sets, sizeof *result->sets);
  for (uint32_t i = 0; i < result->num_sets; i++) result->sets[i] = copy_set(devices[0].sets[i]);
  for (uint32_t d = 1; d < num_devices && result->num_sets > 0; d++) {
    set_list_t next = {0, calloc(result->num_sets * devices[d].num_sets, sizeof(capability_set_t *))};
    for (uint32_t i = 0; i < result->num_sets; i++)
      for (uint32_t j = 0; j < devices[d].num_sets; j++) {
        capability_set_t *m = merge(result->sets[i], devices[d].sets[j]);
        if (m) next.sets[next.num_sets++] = m;
      }
    free_list(result);
    *result = next;
  }
}

/* The devices' answers, built once (as drivers would answer them before any negotiation). */
static set_list_t device_list(const device_desc_t *d) {
  set_list_t l = {d->num_sets, calloc(d->num_sets, sizeof(capability_set_t *))};
  for (uint32_t i = 0; i < d->num_sets; i++) {
    const set_desc_t *sd = &d->sets[i];
    capability_set_t *s = calloc(1, sizeof *s);
    s->num_capabilities = sd->num_caps;
    s->capabilities = calloc(sd->num_caps, sizeof *s->capabilities);
    for (uint32_t c = 0; c < sd->num_caps; c++) {
      capability_t *cap = calloc(1, sizeof *cap + sizeof(uint32_t));
      cap->header = (header_t){sd->caps[c].vendor, sd->caps[c].name, sizeof(uint32_t), sd->caps[c].required};
      memcpy(cap->payload, &sd->caps[c].payload, sizeof(uint32_t));
      s->capabilities[c] = cap;
    }
    s->num_constraints = sd->num_constraints;
    s->constraints = calloc(sd->num_constraints ? sd->num_constraints : 1, sizeof *s->constraints);
    memcpy(s->constraints, sd->constraints, sd->num_constraints * sizeof *s->constraints);
    l.sets[i] = s;
  }
  return l;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fold CASE ITERATIONS\n");
    return 2;
  }
  const case_desc_t *c = NULL;
  for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
    if (strcmp(CASES[i].name, argv[1]) == 0) c = &CASES[i];
  if (!c) {
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
  }
  long iterations = atol(argv[2]);
  set_list_t devices[4];
  for (uint32_t d = 0; d < c->num_devices; d++) devices[d] = device_list(&c->devices[d]);
  uint32_t found = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < iterations; i++) {
    set_list_t result;
    negotiate(devices, c->num_devices, &result);
    found = result.num_sets;
    free_list(&result);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / (double)iterations;
  printf("%.1f %u\n", ns, found);
  for (uint32_t d = 0; d < c->num_devices; d++) free_list(&devices[d]);
  return 0;
}
