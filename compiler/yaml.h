/* yaml.h - pass 1 (load): a YAML file read through libyaml into a tree of nodes, each carrying
 * its file:line:col, so every later error can point at the exact spot in the spec.
 * Only what a spec needs: maps (keys are scalars; a duplicate key is an error), sequences and
 * scalars (with their style, so "yes" quoted stays a string). Anchors/aliases are resolved by
 * copying the node reference. YAML syntax errors are reported through diag with libyaml's
 * problem text and position. */
#ifndef PIPEC_YAML_H
#define PIPEC_YAML_H
#include <stdbool.h>
#include "arena.h"
#include "diag.h"

typedef enum { YN_SCALAR, YN_MAP, YN_SEQ } YNodeKind;

typedef enum {
    YS_PLAIN, YS_SINGLE_QUOTED, YS_DOUBLE_QUOTED, YS_LITERAL, YS_FOLDED
} YScalarStyle;

typedef struct YNode YNode;
typedef struct YPair { YNode *key, *value; } YPair;

struct YNode {
    YNodeKind kind;
    SrcLoc loc;          /* where the node starts (for quoted scalars: the opening quote) */
    /* YN_SCALAR */
    const char *text;    /* the scalar's value, NUL-terminated */
    size_t len;
    YScalarStyle style;
    /* YN_MAP */
    YPair *pairs;
    int npairs;
    /* YN_SEQ */
    YNode **items;
    int nitems;
};

/* Reads and parses `path`; registers its text with diag. Returns the document's root node, or NULL
 * after reporting an error (unreadable file, YAML syntax error, empty document, duplicate key). */
YNode *yaml_load_file(Arena *a, const char *path);
/* The same from memory (tests); `name` is used in locations. */
YNode *yaml_load_string(Arena *a, const char *name, const char *text);
/* Frees every text loaded so far (and forgets them in diag): for a caller that loads many texts
 * in turn, once no node or location of them is used any more. */
void yaml_free_sources(void);

/* Map lookup by key; NULL when absent or when `map` is not a map. */
YNode *yaml_get(const YNode *map, const char *key);
bool yaml_is_null(const YNode *n);   /* plain scalar "", "~", "null" */
const char *yaml_kind_name(YNodeKind k);   /* "a scalar", "a map", "a list" */
/* The file position of byte `offset` of a scalar's value: accounts for the opening quote and, for
 * block scalars (| and >) and multi-line plain scalars, for the lines the value spans. Escapes in
 * double-quoted scalars are not undone (the column may then be a little off). */
SrcLoc yaml_scalar_loc(const YNode *scalar, size_t offset);

#endif
