/*
 * extract.h — deciding what in a message is worth remembering
 * (DESIGN.md §5 node memory_extract, issue 4).
 *
 * Two ways: the small LLM answers JSON {"is_important", "formatted_memory"}
 * (rose_memory_parse_llm reads it, refusing anything malformed), or, with
 * no LLM key, rules over plain English (rose_memory_extract_offline) catch
 * names, losses and bereavement, feelings, relationships, preferences and
 * goals, and write the memory in the third person ("Their mother passed
 * away last spring.").
 */
#ifndef ROSE_MEMORY_EXTRACT_H
#define ROSE_MEMORY_EXTRACT_H

#include <stddef.h>

#include "core/err.h"
#include "memory/vectors.h"

/* enum rose_memory_type, rose_memory_type_name() and ROSE_MEMORY_TEXT_MAX
 * are the memory store's (memory/vectors.h). */

/*
 * Rules over text.  ROSE_OK with *memory (malloc'd, caller frees) and *type
 * when something is worth keeping; ROSE_ERR_NOT_FOUND when nothing is (a
 * greeting, small talk).  Bounded work on any input.
 */
enum rose_err rose_memory_extract_offline(const char *text, char **memory,
                                          enum rose_memory_type *type);

/*
 * Read the small LLM's answer: one JSON object (optionally inside a ```
 * fence or with text around it) with a boolean is_important and a string
 * formatted_memory.  ROSE_OK with *memory (caller frees) and a type guessed
 * from its words when important; ROSE_ERR_NOT_FOUND when not important;
 * ROSE_ERR_PARSE when the answer is malformed (wrong types, no object,
 * empty or over-long memory, invalid UTF-8).
 */
enum rose_err rose_memory_parse_llm(const char *answer, size_t len, char **memory,
                                    enum rose_memory_type *type);

#endif
