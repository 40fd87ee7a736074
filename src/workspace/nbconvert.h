/* nbconvert.h - Databricks source notebooks and Jupyter (.ipynb) notebooks:
 * headers, language detection, conversion both ways.
 *
 * Source format (reference §6): the first line is the language's header
 * ("# Databricks notebook source"; "--" for SQL, "//" for Scala), cells are
 * separated by "\n\n# COMMAND ----------\n\n", and a cell whose lines all
 * start with "# MAGIC" runs a magic: "%md" makes it a markdown cell.
 * Conversion: one Jupyter cell per source cell; "%md" cells become markdown
 * cells with the MAGIC prefix and the %md line stripped; other MAGIC cells
 * become code cells holding the magic ("%sql ..."); back again, markdown and
 * raw cells become "# MAGIC %md" cells and code cells starting with '%' get
 * the MAGIC prefix. source -> ipynb -> source gives the same text for any
 * source this module writes (the round trip normalizes blank lines at cell
 * edges, "\r\n" and an inline "%md text" first line).
 *
 * Pure functions on memory (jansson for JSON): safe from any thread. Inputs
 * are capped by the caller (WORKSPACE_MAX_CONTENT); outputs grow with them.
 */
#ifndef JOBSD_WORKSPACE_NBCONVERT_H
#define JOBSD_WORKSPACE_NBCONVERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "workspace/workspace.h"

/* The header line (no newline) and the comment prefix of a language
 * (PYTHON and R share "#"). NULL for WORKSPACE_LANG_NONE. */
const char *nbconvert_header(enum workspace_lang lang);
const char *nbconvert_comment(enum workspace_lang lang);

/* True when buf starts with lang's header line, ended by "\n", "\r\n" or
 * the end of buf. */
bool nbconvert_has_header(const char *buf, size_t len, enum workspace_lang lang);

/* Parses an .ipynb: 0 and *out (the caller's reference) when buf is a JSON
 * object with a "cells" array; -1 with *why otherwise. */
int nbconvert_ipynb_parse(const char *buf, size_t len, json_t **out, const char **why);

/* The language of a parsed notebook: the Databricks metadata, then
 * metadata.kernelspec.language, then metadata.language_info.name; PYTHON
 * when none names one of ours. */
enum workspace_lang nbconvert_ipynb_lang(const json_t *nb);

/* Source (header optional) -> ipynb JSON text (nbformat 4). 0 and *out
 * (malloc'd, NUL-terminated; the caller frees it), or -1 with *why when
 * src is not UTF-8 (JSON strings must be). */
int nbconvert_to_ipynb(const char *src, size_t len, enum workspace_lang lang, char **out,
		       size_t *outlen, const char **why);

/* Parsed ipynb -> source text in lang, header included. 0, or -1 with *why
 * when a cell is malformed (source not a string or array of strings). */
int nbconvert_to_source(const json_t *nb, enum workspace_lang lang, char **out, size_t *outlen,
			const char **why);

#endif
