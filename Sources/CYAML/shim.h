// Prefixed accessors over Debian's libyaml (libyaml-dev): the event parser aiosd composes its YAML from.
// The event's fields live in a union; these read the one that belongs to the event's type.
#ifndef AIOS_CYAML_SHIM_H
#define AIOS_CYAML_SHIM_H

#include <stdlib.h>
#include <yaml.h>

/// A parser over `size` bytes at `input` (not copied: keep them alive until aios_yaml_parser_free); NULL if out of memory.
static inline yaml_parser_t *_Nullable aios_yaml_parser_new(const unsigned char *_Nonnull input, size_t size) {
    yaml_parser_t *parser = malloc(sizeof(yaml_parser_t));
    if (parser == NULL) return NULL;
    if (!yaml_parser_initialize(parser)) { free(parser); return NULL; }
    yaml_parser_set_input_string(parser, input, size);
    return parser;
}

static inline void aios_yaml_parser_free(yaml_parser_t *_Nonnull parser) {
    yaml_parser_delete(parser);
    free(parser);
}

/// The next event into `event` (release it with aios_yaml_event_delete); 0 on a syntax error.
static inline int aios_yaml_parser_next(yaml_parser_t *_Nonnull parser, yaml_event_t *_Nonnull event) {
    return yaml_parser_parse(parser, event);
}

static inline void aios_yaml_event_delete(yaml_event_t *_Nonnull event) { yaml_event_delete(event); }

/// The parser's description of its error (a constant of libyaml's, never the input's text); NULL if none.
static inline const char *_Nullable aios_yaml_parser_problem(const yaml_parser_t *_Nonnull parser) { return parser->problem; }
/// Where the error is, 0-based.
static inline size_t aios_yaml_parser_problem_line(const yaml_parser_t *_Nonnull parser) { return parser->problem_mark.line; }
static inline size_t aios_yaml_parser_problem_column(const yaml_parser_t *_Nonnull parser) { return parser->problem_mark.column; }

/// The anchor (`&name`) of a scalar, sequence or mapping start, or the target of an alias; NULL if none.
static inline const char *_Nullable aios_yaml_event_anchor(const yaml_event_t *_Nonnull event) {
    switch (event->type) {
    case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.anchor;
    case YAML_ALIAS_EVENT: return (const char *)event->data.alias.anchor;
    default: return NULL;
    }
}

/// The explicit tag (`!!str`, resolved to its full form) of a scalar, sequence or mapping start; NULL if none.
static inline const char *_Nullable aios_yaml_event_tag(const yaml_event_t *_Nonnull event) {
    switch (event->type) {
    case YAML_SCALAR_EVENT: return (const char *)event->data.scalar.tag;
    case YAML_SEQUENCE_START_EVENT: return (const char *)event->data.sequence_start.tag;
    case YAML_MAPPING_START_EVENT: return (const char *)event->data.mapping_start.tag;
    default: return NULL;
    }
}

/// A scalar's value (UTF-8, may contain NUL) and its length.
static inline const unsigned char *_Nullable aios_yaml_event_scalar_value(const yaml_event_t *_Nonnull event) {
    return event->type == YAML_SCALAR_EVENT ? event->data.scalar.value : NULL;
}
static inline size_t aios_yaml_event_scalar_length(const yaml_event_t *_Nonnull event) {
    return event->type == YAML_SCALAR_EVENT ? event->data.scalar.length : 0;
}
/// Whether a scalar was written plain (unquoted, not a block scalar): only plain scalars resolve to null, numbers, ...
static inline int aios_yaml_event_scalar_is_plain(const yaml_event_t *_Nonnull event) {
    return event->type == YAML_SCALAR_EVENT && event->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/// Where the event starts, 0-based.
static inline size_t aios_yaml_event_line(const yaml_event_t *_Nonnull event) { return event->start_mark.line; }
static inline size_t aios_yaml_event_column(const yaml_event_t *_Nonnull event) { return event->start_mark.column; }

#endif
