/* workspace.h - the Workspace API's object store: notebooks, files and
 * folders under DIR/workspace.
 *
 * The file system under the root is the only truth (like a Databricks Git
 * folder; docs/internals/workspace.md):
 *   DIRECTORY /a/b   the directory a/b
 *   NOTEBOOK  /a/b   the regular file a/b.py, a/b.sql, a/b.scala or a/b.r whose
 *                    first line is that language's notebook header, or a/b.ipynb
 *   FILE      /a/b   the regular file a/b (when it is not a notebook itself)
 * A path resolves to the first of: directory, notebook (.py, .sql, .scala,
 * .r, .ipynb in that order), file. Operators may drop files in by hand.
 *
 * Safety: every file-system access resolves beneath the root with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from an O_PATH fd of the
 * root, so symlinks inside the workspace work and anything leaving it fails.
 * Durability: a write goes to a hidden temp file (".jobsd-tmp-<hex>") in the
 * target folder, is fsynced, renamed into place (RENAME_NOREPLACE unless
 * overwriting) and the folder fsynced; a return of 0 means it is on disk.
 *
 * Errors: every function that can fail returns 0 or -1 and fills a
 * model_error whose status, error_code and message (naming the path) are the
 * API's answer: 400 INVALID_PARAMETER_VALUE, RESOURCE_ALREADY_EXISTS,
 * DIRECTORY_NOT_EMPTY, MAX_NOTEBOOK_SIZE_EXCEEDED; 404 RESOURCE_DOES_NOT_EXIST;
 * 503 TEMPORARILY_UNAVAILABLE (disk full or failing); 500 INTERNAL_ERROR.
 * Paths given to these functions are client input: they are validated with
 * wspath_normalize and may carry the "/Workspace" prefix.
 *
 * Threads: any thread may call any function. Writes (import, mkdirs,
 * delete) are serialized by a mutex inside the module; reads take no lock
 * (renames are atomic, so a reader sees the old or the new object).
 */
#ifndef JOBSD_WORKSPACE_WORKSPACE_H
#define JOBSD_WORKSPACE_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/error.h"
#include "workspace/wspath.h"

struct workspace;

/* Largest notebook or file imported or exported, decoded (the service's). */
#define WORKSPACE_MAX_CONTENT (10L * 1024 * 1024)

enum workspace_type { WORKSPACE_DIRECTORY, WORKSPACE_NOTEBOOK, WORKSPACE_FILE };

enum workspace_lang {
	WORKSPACE_LANG_NONE = 0,
	WORKSPACE_PYTHON,
	WORKSPACE_SQL,
	WORKSPACE_SCALA,
	WORKSPACE_R,
};

enum workspace_format {
	WORKSPACE_SOURCE = 0,
	WORKSPACE_JUPYTER,
	WORKSPACE_AUTO,
	WORKSPACE_RAW,
};

/* One object, as get-status and list report it. */
struct workspace_object {
	char path[WSPATH_MAX + 1]; /* canonical, without "/Workspace" */
	enum workspace_type type;
	enum workspace_lang lang; /* notebooks only */
	bool ipynb;		  /* a notebook stored as .ipynb */
	int64_t object_id;	  /* the inode number of the file or folder */
	int64_t created_ms;	  /* birth time (statx), else modification time */
	int64_t modified_ms;
	int64_t size; /* bytes on disk; reported for files only */
};

struct workspace_import {
	const char *path; /* client input, path_len bytes (may hold NUL: refused) */
	size_t path_len;
	const void *content; /* decoded bytes */
	size_t len;
	enum workspace_format format;
	enum workspace_lang lang; /* WORKSPACE_LANG_NONE when not given */
	bool overwrite;
};

/* Opens the workspace rooted at root (an existing directory). Fails closed
 * when the kernel lacks openat2(2). 0, or -1 with err set. */
int workspace_open(struct workspace **out, const char *root, char *err, size_t errlen);
void workspace_close(struct workspace *ws); /* NULL is fine */

/* --- names ------------------------------------------------------------------- */
/* "PYTHON"... ; NULL for WORKSPACE_LANG_NONE. */
const char *workspace_lang_name(enum workspace_lang lang);
/* 0 and *out for PYTHON, SQL, SCALA, R (case-sensitive); -1 otherwise. */
int workspace_lang_parse(const char *s, enum workspace_lang *out);
const char *workspace_type_name(enum workspace_type type);
/* 0 and *out for SOURCE, JUPYTER, AUTO, RAW; -2 for formats of the API that
 * jobsd does not support (HTML, DBC, R_MARKDOWN); -1 for anything else. */
int workspace_format_parse(const char *s, enum workspace_format *out);

/* --- reads ------------------------------------------------------------------- */
/* get-status. */
int workspace_stat(struct workspace *ws, const char *path, size_t path_len,
		   struct workspace_object *out, struct model_error *err);

/* list: the children of a folder sorted by path (the object itself when path
 * is not a folder). Notebooks modified at or before modified_after_ms are
 * left out (pass -1 for all). *out (caller frees; NULL when *n == 0). */
int workspace_list(struct workspace *ws, const char *path, size_t path_len,
		   int64_t modified_after_ms, struct workspace_object **out, size_t *n,
		   struct model_error *err);

/* export: the object's bytes in format (SOURCE, JUPYTER or AUTO = as
 * stored). *out is malloc'd and NUL-terminated (caller frees); file_type
 * receives "py", "sql", "scala", "r", "ipynb" or a file's extension ("" when
 * it has none). */
int workspace_export(struct workspace *ws, const char *path, size_t path_len,
		     enum workspace_format format, char **out, size_t *len, char file_type[16],
		     struct model_error *err);

/* --- writes (serialized) ------------------------------------------------------- */
int workspace_import(struct workspace *ws, const struct workspace_import *imp,
		     struct model_error *err);
int workspace_mkdirs(struct workspace *ws, const char *path, size_t path_len,
		     struct model_error *err);
int workspace_delete(struct workspace *ws, const char *path, size_t path_len, bool recursive,
		     struct model_error *err);

/* --- fault injection (tests only) ------------------------------------------------
 * Called inside a write at each step; returning a negative errno makes that
 * step fail with it (-ENOSPC, -EIO...), 0 lets it run. The hook may also
 * touch the file system, e.g. create the target just before the rename to
 * race it. NULL (the default) turns it off. Set it before other threads use
 * the workspace. */
enum workspace_step { WORKSPACE_STEP_WRITE, WORKSPACE_STEP_FSYNC, WORKSPACE_STEP_RENAME };
void workspace_set_fault_hook(struct workspace *ws,
			      int (*hook)(void *arg, enum workspace_step step, int dirfd,
					  const char *name),
			      void *arg);

#endif
