/* rt_debezium.c - picking the row out of a Debezium change event (source format debezium).
 * The generated decoder extracts every schema field from four places at once (a row in `after`
 * or `before`, at the top level or under the `payload` of Kafka Connect's schema/payload
 * wrapper); this decides which of the four is the event's row, from its `op`: `before` for a
 * delete (d), `after` for a create, update or snapshot read (c, u, r). A truncate (t) carries no
 * row, nor does any other op: those records go to the dead letter. */
#include "pipec_rt.h"
#include <stdio.h>

enum { V_AFTER, V_BEFORE, V_PAYLOAD_AFTER, V_PAYLOAD_BEFORE };   /* the order of json_paths_model */
enum { O_PAYLOAD, O_AFTER, O_BEFORE, O_PAYLOAD_AFTER, O_PAYLOAD_BEFORE };

int prt_debezium_row(const prt_json_val *jv, int nfields, int op_field, prt_arena *scratch,
                     const char **reason, const char **why) {
    const prt_json_val *objects = jv + 4 * nfields;
    const prt_json_val *payload = &objects[O_PAYLOAD];
    *reason = "parse";
    if (payload->kind == PRT_JSON_NULL) {   /* Kafka Connect's rendering of a null value */
        *reason = NULL;
        return -1;
    }
    if (payload->kind != PRT_JSON_MISSING && payload->kind != PRT_JSON_OBJECT) {
        *why = "not a Debezium change event: 'payload' is not an object";
        return -1;
    }
    bool wrapped = payload->kind == PRT_JSON_OBJECT;
    const prt_json_val *op = &jv[(wrapped ? V_PAYLOAD_AFTER : V_AFTER) * nfields + op_field];
    if (op->kind != PRT_JSON_STRING) {
        *why = op->kind == PRT_JSON_MISSING ? "not a Debezium change event: it has no 'op'"
                                            : "not a Debezium change event: 'op' is not a string";
        return -1;
    }
    char c = op->text.n == 1 ? op->text.p[0] : 0;
    if (c != 'c' && c != 'u' && c != 'd' && c != 'r') {
        *reason = "schema";
        if (c == 't') {
            *why = "a truncate event carries no row";
        } else {
            int n = op->text.n > 32 ? 32 : (int)op->text.n;
            char *m = prt_arena_alloc(scratch, 80);
            snprintf(m, 80, "op '%.*s' is not a row change (c, u, d or r)", n, op->text.p);
            *why = m;
        }
        return -1;
    }
    bool del = c == 'd';
    int variant = (wrapped ? V_PAYLOAD_AFTER : V_AFTER) + del;
    const prt_json_val *row = &objects[(wrapped ? O_PAYLOAD_AFTER : O_AFTER) + del];
    if (row->kind != PRT_JSON_OBJECT) {
        *why = del ? "a delete event without a 'before' row (the table's REPLICA IDENTITY gives none)"
                   : c == 'c' ? "a create event without an 'after' row"
                   : c == 'u' ? "an update event without an 'after' row"
                              : "a read event without an 'after' row";
        return -1;
    }
    *reason = NULL;
    return variant * nfields;
}
