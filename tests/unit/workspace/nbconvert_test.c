/* nbconvert_test.c - unit tests for src/workspace/nbconvert.c: notebook
 * headers, language detection, source -> ipynb, ipynb -> source and the
 * round trip between them. Pure, single-threaded, no files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "workspace/nbconvert.h"

static json_t *to_ipynb(const char *src, enum workspace_lang lang)
{
	char *out;
	size_t len;
	const char *why = NULL;
	if (nbconvert_to_ipynb(src, strlen(src), lang, &out, &len, &why) != 0)
		fail_msg("to_ipynb refused: %s", why);
	assert_int_equal(strlen(out), len);
	json_t *nb;
	if (nbconvert_ipynb_parse(out, len, &nb, &why) != 0)
		fail_msg("to_ipynb wrote something that is not a notebook (%s): %s", why, out);
	free(out);
	return nb;
}

static char *to_source(const char *ipynb, enum workspace_lang lang)
{
	json_t *nb;
	const char *why = NULL;
	if (nbconvert_ipynb_parse(ipynb, strlen(ipynb), &nb, &why) != 0)
		fail_msg("not a notebook (%s): %s", why, ipynb);
	char *out;
	size_t len;
	if (nbconvert_to_source(nb, lang, &out, &len, &why) != 0)
		fail_msg("to_source refused: %s", why);
	json_decref(nb);
	assert_int_equal(strlen(out), len);
	return out;
}

/* The joined source text of cell i, and its type. */
static void assert_cell(json_t *nb, size_t i, const char *type, const char *text)
{
	json_t *cell = json_array_get(json_object_get(nb, "cells"), i);
	assert_non_null(cell);
	assert_string_equal(json_string_value(json_object_get(cell, "cell_type")), type);
	char buf[4096] = "";
	size_t k;
	json_t *line;
	json_array_foreach (json_object_get(cell, "source"), k, line)
		strncat(buf, json_string_value(line), sizeof(buf) - strlen(buf) - 1);
	assert_string_equal(buf, text);
	if (strcmp(type, "code") == 0) {
		assert_true(json_is_array(json_object_get(cell, "outputs")));
		assert_true(json_is_null(json_object_get(cell, "execution_count")));
	}
}

static size_t ncells(json_t *nb) { return json_array_size(json_object_get(nb, "cells")); }

static void test_headers(void **state)
{
	(void)state;
	assert_string_equal(nbconvert_header(WORKSPACE_PYTHON), "# Databricks notebook source");
	assert_string_equal(nbconvert_header(WORKSPACE_R), "# Databricks notebook source");
	assert_string_equal(nbconvert_header(WORKSPACE_SQL), "-- Databricks notebook source");
	assert_string_equal(nbconvert_header(WORKSPACE_SCALA), "// Databricks notebook source");
	assert_null(nbconvert_header(WORKSPACE_LANG_NONE));
	assert_string_equal(nbconvert_comment(WORKSPACE_SQL), "--");

	const char *h = "# Databricks notebook source";
	assert_true(nbconvert_has_header(h, strlen(h), WORKSPACE_PYTHON));
	assert_true(nbconvert_has_header("# Databricks notebook source\nx", 30, WORKSPACE_PYTHON));
	assert_true(nbconvert_has_header("# Databricks notebook source\r\nx", 31, WORKSPACE_R));
	assert_true(nbconvert_has_header("# Databricks notebook source\r", 29, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header("# Databricks notebook sourcex", 29, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header("# Databricks notebook source\rx", 30, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header("# Databricks notebook sour", 26, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header(" # Databricks notebook source", 29, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header("# Databricks notebook source", 28, WORKSPACE_SQL));
	assert_false(nbconvert_has_header("", 0, WORKSPACE_PYTHON));
	assert_false(nbconvert_has_header("x", 1, WORKSPACE_LANG_NONE));
}

static void test_ipynb_parse_and_language(void **state)
{
	(void)state;
	json_t *nb;
	const char *why;
	assert_int_equal(nbconvert_ipynb_parse("{", 1, &nb, &why), -1);
	assert_non_null(strstr(why, "not valid JSON"));
	assert_int_equal(nbconvert_ipynb_parse("[]", 2, &nb, &why), -1);
	assert_non_null(strstr(why, "cells"));
	assert_int_equal(nbconvert_ipynb_parse("{\"cells\":{}}", 12, &nb, &why), -1);
	assert_int_equal(nbconvert_ipynb_parse("{\"a\":1,\"a\":2,\"cells\":[]}", 24, &nb, &why),
			 -1);

	static const struct {
		const char *json;
		enum workspace_lang lang;
	} cases[] = {
		{"{\"cells\":[]}", WORKSPACE_PYTHON},
		{"{\"cells\":[],\"metadata\":{\"kernelspec\":{\"language\":\"scala\"}}}",
		 WORKSPACE_SCALA},
		{"{\"cells\":[],\"metadata\":{\"language_info\":{\"name\":\"R\"}}}", WORKSPACE_R},
		{"{\"cells\":[],\"metadata\":{\"language_info\":{\"name\":\"julia\"}}}",
		 WORKSPACE_PYTHON},
		{"{\"cells\":[],\"metadata\":{\"application/"
		 "vnd.databricks.v1+notebook\":{\"language\":"
		 "\"sql\"},\"kernelspec\":{\"language\":\"python\"}}}",
		 WORKSPACE_SQL},
		{"{\"cells\":[],\"metadata\":{\"kernelspec\":{\"language\":7},\"language_info\":{"
		 "\"name\":"
		 "\"python\"}}}",
		 WORKSPACE_PYTHON},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(
			nbconvert_ipynb_parse(cases[i].json, strlen(cases[i].json), &nb, &why), 0);
		assert_int_equal(nbconvert_ipynb_lang(nb), cases[i].lang);
		json_decref(nb);
	}
}

static void test_source_to_ipynb_cells(void **state)
{
	(void)state;
	json_t *nb = to_ipynb("# Databricks notebook source\n"
			      "import os\nprint(1)\n\n"
			      "# COMMAND ----------\n\n"
			      "# MAGIC %md\n# MAGIC # Title\n# MAGIC\n# MAGIC text\n\n"
			      "# COMMAND ----------\n\n"
			      "# MAGIC %sql\n# MAGIC SELECT 1\n\n"
			      "# COMMAND ----------\n\n"
			      "# MAGIC %md inline heading\n\n"
			      "# COMMAND ----------\n\n"
			      "# DBTITLE 1,Load\nx = 1\n",
			      WORKSPACE_PYTHON);
	assert_int_equal(ncells(nb), 5);
	assert_cell(nb, 0, "code", "import os\nprint(1)");
	assert_cell(nb, 1, "markdown", "# Title\n\ntext");
	assert_cell(nb, 2, "code", "%sql\nSELECT 1");
	assert_cell(nb, 3, "markdown", "inline heading");
	assert_cell(nb, 4, "code", "# DBTITLE 1,Load\nx = 1");
	json_t *ks = json_object_get(json_object_get(nb, "metadata"), "kernelspec");
	assert_string_equal(json_string_value(json_object_get(ks, "name")), "python3");
	assert_int_equal(json_integer_value(json_object_get(nb, "nbformat")), 4);
	assert_int_equal(nbconvert_ipynb_lang(nb), WORKSPACE_PYTHON);
	json_decref(nb);
}

static void test_source_to_ipynb_edges(void **state)
{
	(void)state;
	/* Header only, or nothing: no cells. */
	json_t *nb = to_ipynb("# Databricks notebook source\n", WORKSPACE_PYTHON);
	assert_int_equal(ncells(nb), 0);
	json_decref(nb);
	nb = to_ipynb("", WORKSPACE_PYTHON);
	assert_int_equal(ncells(nb), 0);
	json_decref(nb);
	/* No header, CRLF line ends, an empty middle cell and a trailing one. */
	nb = to_ipynb("a\r\n\r\n# COMMAND ----------\r\n\r\n\r\n# COMMAND ----------  \r\nb\r\n"
		      "# COMMAND ----------\n",
		      WORKSPACE_LANG_NONE);
	assert_int_equal(ncells(nb), 4);
	assert_cell(nb, 0, "code", "a");
	assert_cell(nb, 1, "code", "");
	assert_cell(nb, 2, "code", "b");
	assert_cell(nb, 3, "code", "");
	json_decref(nb);
	/* A "# MAGIC" line in a cell with other lines is plain code. */
	nb = to_ipynb("# MAGIC %md\nprint(2)\n", WORKSPACE_PYTHON);
	assert_cell(nb, 0, "code", "# MAGIC %md\nprint(2)");
	json_decref(nb);
	/* All lines MAGIC but no %command first: kept as written. */
	nb = to_ipynb("# MAGIC just a comment\n# MAGIC\n", WORKSPACE_PYTHON);
	assert_cell(nb, 0, "code", "# MAGIC just a comment\n# MAGIC");
	json_decref(nb);
	/* A CR inside a line is text; CRs ending one are not. */
	nb = to_ipynb("a\rb\r\r\n", WORKSPACE_PYTHON);
	assert_cell(nb, 0, "code", "a\rb");
	json_decref(nb);
	/* "# MAGICx" is not the magic prefix. */
	nb = to_ipynb("# MAGICx\n", WORKSPACE_PYTHON);
	assert_cell(nb, 0, "code", "# MAGICx");
	json_decref(nb);
	/* Not UTF-8: refused, JSON could not hold it. */
	char *out;
	size_t len;
	const char *why;
	assert_int_equal(nbconvert_to_ipynb("a\xff\n", 3, WORKSPACE_PYTHON, &out, &len, &why), -1);
	assert_non_null(strstr(why, "UTF-8"));
}

static void test_sql_and_scala(void **state)
{
	(void)state;
	json_t *nb = to_ipynb("-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\n"
			      "-- MAGIC %md\n-- MAGIC hi\n\n# COMMAND ----------\n",
			      WORKSPACE_SQL);
	assert_int_equal(ncells(nb), 2);
	assert_cell(nb, 0, "code", "SELECT 1");
	/* Python's separator is only text in SQL, so the cell is not all MAGIC. */
	assert_cell(nb, 1, "code", "-- MAGIC %md\n-- MAGIC hi\n\n# COMMAND ----------");
	assert_int_equal(nbconvert_ipynb_lang(nb), WORKSPACE_SQL);
	json_decref(nb);
	nb = to_ipynb("// Databricks notebook source\nval x = 1\n// COMMAND ----------\nx\n",
		      WORKSPACE_SCALA);
	assert_int_equal(ncells(nb), 2);
	assert_int_equal(nbconvert_ipynb_lang(nb), WORKSPACE_SCALA);
	json_decref(nb);
}

static void test_ipynb_to_source(void **state)
{
	(void)state;
	char *s = to_source("{\"cells\":["
			    "{\"cell_type\":\"markdown\",\"source\":[\"# T\\n\",\"\\n\",\"x\"]},"
			    "{\"cell_type\":\"code\",\"source\":\"print(1)\\n\"},"
			    "{\"cell_type\":\"code\",\"source\":[\"%sql\\n\",\"SELECT 1\"]},"
			    "{\"cell_type\":\"raw\",\"source\":[]},"
			    "{\"cell_type\":\"code\"}]}",
			    WORKSPACE_PYTHON);
	assert_string_equal(s, "# Databricks notebook source\n"
			       "# MAGIC %md\n# MAGIC # T\n# MAGIC\n# MAGIC x\n\n"
			       "# COMMAND ----------\n\n"
			       "print(1)\n\n"
			       "# COMMAND ----------\n\n"
			       "# MAGIC %sql\n# MAGIC SELECT 1\n\n"
			       "# COMMAND ----------\n\n"
			       "# MAGIC %md\n\n"
			       "# COMMAND ----------\n\n\n");
	free(s);
	s = to_source("{\"cells\":[]}", WORKSPACE_SQL);
	assert_string_equal(s, "-- Databricks notebook source\n");
	free(s);
	s = to_source("{\"cells\":[{\"cell_type\":\"code\",\"source\":\"SELECT 2\"}]}",
		      WORKSPACE_SQL);
	assert_string_equal(s, "-- Databricks notebook source\nSELECT 2\n");
	free(s);

	const char *bad[] = {
		"{\"cells\":[1]}",
		"{\"cells\":[{\"source\":\"x\"}]}",
		"{\"cells\":[{\"cell_type\":\"code\",\"source\":[1]}]}",
		"{\"cells\":[{\"cell_type\":\"code\",\"source\":{}}]}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *nb;
		const char *why;
		char *out = NULL;
		size_t len;
		assert_int_equal(nbconvert_ipynb_parse(bad[i], strlen(bad[i]), &nb, &why), 0);
		assert_int_equal(nbconvert_to_source(nb, WORKSPACE_PYTHON, &out, &len, &why), -1);
		assert_null(out);
		assert_non_null(strstr(why, "cell"));
		json_decref(nb);
	}
}

/* source -> ipynb -> source gives back the same text. */
static void round_trip(const char *src, enum workspace_lang lang)
{
	char *ipynb, *back;
	size_t len, blen;
	const char *why;
	json_t *nb;
	assert_int_equal(nbconvert_to_ipynb(src, strlen(src), lang, &ipynb, &len, &why), 0);
	assert_int_equal(nbconvert_ipynb_parse(ipynb, len, &nb, &why), 0);
	assert_int_equal(nbconvert_ipynb_lang(nb), lang);
	assert_int_equal(nbconvert_to_source(nb, lang, &back, &blen, &why), 0);
	if (strcmp(back, src) != 0)
		fail_msg("round trip changed\n---\n%s\n---into---\n%s\n---", src, back);
	json_decref(nb);
	free(ipynb);
	free(back);
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip("# Databricks notebook source\n", WORKSPACE_PYTHON);
	round_trip("# Databricks notebook source\nprint(1)\n", WORKSPACE_PYTHON);
	round_trip("# Databricks notebook source\n"
		   "import os\n\nprint(os.getcwd())\n\n"
		   "# COMMAND ----------\n\n"
		   "# MAGIC %md\n# MAGIC ## Heading\n# MAGIC\n# MAGIC * item\n\n"
		   "# COMMAND ----------\n\n"
		   "# MAGIC %run ./other\n\n"
		   "# COMMAND ----------\n\n"
		   "\n\n"
		   "# COMMAND ----------\n\n"
		   "dbutils.notebook.exit(\"done\")\n",
		   WORKSPACE_PYTHON);
	round_trip("-- Databricks notebook source\nSELECT 1\n\n-- COMMAND ----------\n\n"
		   "-- MAGIC %md\n-- MAGIC \xc3\xa9t\xc3\xa9\n",
		   WORKSPACE_SQL);
	round_trip("// Databricks notebook source\nval x = 1\n\n// COMMAND ----------\n\nx + 1\n",
		   WORKSPACE_SCALA);
	round_trip("# Databricks notebook source\nlibrary(dplyr)\n", WORKSPACE_R);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_ipynb_parse_and_language),
		cmocka_unit_test(test_source_to_ipynb_cells),
		cmocka_unit_test(test_source_to_ipynb_edges),
		cmocka_unit_test(test_sql_and_scala),
		cmocka_unit_test(test_ipynb_to_source),
		cmocka_unit_test(test_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
