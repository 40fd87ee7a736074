/* config.c - resolve jobctl's host, token and TLS setting from flags, environment
 * and the ~/.databrickscfg INI file (order and rules in config.h).
 *
 * The INI reader is deliberately small: `[section]` headers, `key = value` or
 * `key: value` lines, `#` and `;` comment lines, keys matched case-insensitively,
 * values trimmed. That is the subset both the Go SDK (go-ini) and the Python SDK
 * (configparser) agree on; inline comments are NOT stripped because a token or a
 * URL may legitimately contain '#' or ';'. Sections are not merged with
 * [DEFAULT], matching the SDKs' explicit behaviour. */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A config file is a few lines; a bigger one is a mistake, not a profile. */
#define CONFIG_FILE_MAX_BYTES (1024 * 1024)

/* Values found in one profile of the file; NULL when the key is absent. */
struct profile_values {
	char *host;
	char *token;
	bool insecure; /* insecure or skip_verify is true */
	bool found;    /* the section exists */
};

static const char *env_nonempty(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

static bool parse_bool_true(const char *v)
{
	return str_ieq(v, "true") || str_ieq(v, "1") || str_ieq(v, "yes") || str_ieq(v, "on");
}

/* Trim ASCII blanks at both ends, in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Apply one `key = value` line that belongs to the wanted profile. */
static void profile_set(struct profile_values *pv, const char *key, const char *value)
{
	if (str_ieq(key, "host")) {
		free(pv->host);
		pv->host = xstrdup(value);
	} else if (str_ieq(key, "token")) {
		if (pv->token)
			explicit_bzero(pv->token, strlen(pv->token));
		free(pv->token);
		pv->token = xstrdup(value);
	} else if (str_ieq(key, "insecure") || str_ieq(key, "skip_verify")) {
		pv->insecure = parse_bool_true(value);
	}
}

/* Walk the file's lines; collect the keys of section `profile`. */
static void parse_ini(char *text, const char *profile, struct profile_values *pv)
{
	bool in_profile = false;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		line = trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			char *close = strrchr(line, ']');
			if (!close)
				continue;
			*close = '\0';
			in_profile = strcmp(trim(line + 1), profile) == 0;
			pv->found |= in_profile;
			continue;
		}
		if (!in_profile)
			continue;
		size_t sep = strcspn(line, "=:");
		if (line[sep] == '\0')
			continue;
		line[sep] = '\0';
		profile_set(pv, trim(line), trim(line + sep + 1));
	}
}

/* The config file path: $DATABRICKS_CONFIG_FILE (with ~/ expanded) or
 * ~/.databrickscfg. NULL when neither can be known (no HOME). */
static char *config_file_path(void)
{
	const char *env = env_nonempty("DATABRICKS_CONFIG_FILE");
	const char *home = env_nonempty("HOME");
	if (env && strncmp(env, "~/", 2) == 0)
		return home ? xasprintf("%s/%s", home, env + 2) : NULL;
	if (env)
		return xstrdup(env);
	return home ? xasprintf("%s/.databrickscfg", home) : NULL;
}

/* Read profile `profile` of the file. A missing file is fine unless the user
 * named a profile: then it is an error, as a named profile must exist. */
static int load_profile(const char *profile, bool named, struct profile_values *pv, char *err,
			size_t err_len)
{
	char *path = config_file_path();
	if (!path) {
		if (!named)
			return 0;
		snprintf(err, err_len,
			 "cannot find the config file for profile '%s': HOME is not set", profile);
		return -1;
	}
	char *text = NULL;
	size_t len;
	char read_err[512];
	if (read_file_capped(path, CONFIG_FILE_MAX_BYTES, &text, &len, read_err,
			     sizeof(read_err))) {
		int rc = 0;
		if (named || errno != ENOENT) {
			snprintf(err, err_len, "%s", read_err);
			rc = -1;
		}
		free(path);
		return rc;
	}
	parse_ini(text, profile, pv);
	explicit_bzero(text, len); /* the file holds tokens */
	free(text);
	int rc = 0;
	if (named && !pv->found) {
		snprintf(err, err_len, "profile '%s' not found in '%s'", profile, path);
		rc = -1;
	}
	free(path);
	return rc;
}

/* "host", "host/", "https://host//" -> "https://host". Returns NULL with a
 * message when the scheme is neither http nor https or nothing follows it. */
static char *normalize_host(const char *raw, char *err, size_t err_len)
{
	const char *sep = strstr(raw, "://");
	char *host = sep ? xstrdup(raw) : xasprintf("https://%s", raw);
	size_t n = strlen(host);
	while (n && host[n - 1] == '/')
		host[--n] = '\0';

	size_t scheme_len = (size_t)(strstr(host, "://") - host);
	bool http = scheme_len == 4 && !strncasecmp(host, "http", 4);
	bool https = scheme_len == 5 && !strncasecmp(host, "https", 5);
	if (!http && !https) {
		snprintf(err, err_len, "host '%s' must use http:// or https://", raw);
		free(host);
		return NULL;
	}
	if (host[scheme_len + 3] == '\0') {
		snprintf(err, err_len, "host '%s' names no server", raw);
		free(host);
		return NULL;
	}
	return host;
}

/* A token goes into an HTTP header: refuse anything that could end or split it. */
static bool token_is_valid(const char *t)
{
	for (const unsigned char *c = (const unsigned char *)t; *c; c++)
		if (*c <= 0x20 || *c == 0x7f)
			return false;
	return true;
}

static void profile_release(struct profile_values *pv)
{
	free(pv->host);
	if (pv->token)
		explicit_bzero(pv->token, strlen(pv->token));
	free(pv->token);
}

/* Host, token and TLS setting once the profile (possibly empty) is known. */
static int config_finish(struct config *cfg, const char *host, const char *token, bool insecure,
			 char *err, size_t err_len)
{
	if (!host) {
		snprintf(err, err_len,
			 "no host: use --host, DATABRICKS_HOST or a profile in "
			 "~/.databrickscfg");
		return -1;
	}
	if (!token) {
		snprintf(err, err_len,
			 "no token: use --token, DATABRICKS_TOKEN or a profile in "
			 "~/.databrickscfg");
		return -1;
	}
	if (!token_is_valid(token)) {
		snprintf(err, err_len, "the token contains blanks or control characters");
		return -1;
	}
	cfg->host = normalize_host(host, err, err_len);
	if (!cfg->host)
		return -1;
	cfg->token = xstrdup(token);
	cfg->insecure = insecure;
	return 0;
}

int config_resolve(struct config *cfg, const struct config_flags *flags, char *err, size_t err_len)
{
	*cfg = (struct config){0};
	const char *host = nonempty(flags->host) ? flags->host : env_nonempty("DATABRICKS_HOST");
	const char *token =
		nonempty(flags->token) ? flags->token : env_nonempty("DATABRICKS_TOKEN");
	const char *profile = nonempty(flags->profile) ? flags->profile
						       : env_nonempty("DATABRICKS_CONFIG_PROFILE");
	bool named = profile != NULL;

	struct profile_values pv = {0};
	if (named || !host || !token) {
		if (load_profile(named ? profile : "DEFAULT", named, &pv, err, err_len) < 0) {
			profile_release(&pv);
			return -1;
		}
	}
	host = host ? host : nonempty(pv.host);
	token = token ? token : nonempty(pv.token);
	int rc = config_finish(cfg, host, token, flags->insecure || pv.insecure, err, err_len);
	profile_release(&pv);
	return rc;
}

void config_release(struct config *cfg)
{
	free(cfg->host);
	if (cfg->token)
		explicit_bzero(cfg->token, strlen(cfg->token));
	free(cfg->token);
	*cfg = (struct config){0};
}
