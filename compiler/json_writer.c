/* json_writer.c - the streaming JSON writer (see json_writer.h). */
#include "json_writer.h"
#include <string.h>

static void newline_indent(JsonWriter *w) {
    sbuf_putc(w->out, '\n');
    for (int i = 0; i < w->depth; i++) sbuf_puts(w->out, "  ");
}

/* What comes before a value or a key: nothing after a key, else a comma and a new line. */
static void before_item(JsonWriter *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth == 0) return;
    if (w->has_items[w->depth]) sbuf_putc(w->out, ',');
    if (w->inline_items[w->depth]) {
        if (w->has_items[w->depth]) sbuf_putc(w->out, ' ');
    } else {
        newline_indent(w);
    }
    w->has_items[w->depth] = true;
}

static void begin_container(JsonWriter *w, char c, bool inline_items) {
    before_item(w);
    sbuf_putc(w->out, c);
    if (w->depth < JSON_MAX_DEPTH) w->depth++;
    w->has_items[w->depth] = false;
    w->inline_items[w->depth] = inline_items;
}

static void end_container(JsonWriter *w, char c) {
    bool had = w->has_items[w->depth] && !w->inline_items[w->depth];
    if (w->depth > 0) w->depth--;
    if (had) newline_indent(w);
    sbuf_putc(w->out, c);
    if (w->depth == 0) sbuf_putc(w->out, '\n');
}

void jw_object_begin(JsonWriter *w) { begin_container(w, '{', false); }
void jw_object_end(JsonWriter *w) { end_container(w, '}'); }
void jw_array_begin(JsonWriter *w) { begin_container(w, '[', false); }
void jw_inline_array_begin(JsonWriter *w) { begin_container(w, '[', true); }
void jw_array_end(JsonWriter *w) { end_container(w, ']'); }

void jw_quote(SBuf *b, const char *s, size_t n) {
    sbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            sbuf_putc(b, '\\');
            sbuf_putc(b, (char)c);
        } else if (c == '\n') sbuf_puts(b, "\\n");
        else if (c == '\r') sbuf_puts(b, "\\r");
        else if (c == '\t') sbuf_puts(b, "\\t");
        else if (c < 0x20) sbuf_printf(b, "\\u%04x", c);
        else sbuf_putc(b, (char)c);
    }
    sbuf_putc(b, '"');
}

void jw_key(JsonWriter *w, const char *key) {
    before_item(w);
    jw_quote(w->out, key, strlen(key));
    sbuf_puts(w->out, ": ");
    w->after_key = true;
}

void jw_string_n(JsonWriter *w, const char *s, size_t n) {
    before_item(w);
    jw_quote(w->out, s, n);
}

void jw_string(JsonWriter *w, const char *s) { jw_string_n(w, s, strlen(s)); }

void jw_int(JsonWriter *w, long long v) {
    before_item(w);
    sbuf_printf(w->out, "%lld", v);
}

void jw_bool(JsonWriter *w, bool v) {
    before_item(w);
    sbuf_puts(w->out, v ? "true" : "false");
}

void jw_key_string(JsonWriter *w, const char *key, const char *value) {
    jw_key(w, key);
    jw_string(w, value);
}
