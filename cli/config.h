/* config.h - where jobctl finds the server and the credentials, resolved the way
 * the Databricks CLI and SDKs do it, attribute by attribute:
 *
 *   1. command-line flags: --host, --token, --insecure
 *   2. environment: DATABRICKS_HOST, DATABRICKS_TOKEN
 *   3. a profile of the INI file ~/.databrickscfg (or $DATABRICKS_CONFIG_FILE):
 *      the section named by --profile or $DATABRICKS_CONFIG_PROFILE, else
 *      [DEFAULT]; keys host, token, insecure / skip_verify, others ignored.
 *
 * When host and token are both known from 1-2 and no profile is named, the file
 * is not read at all (the SDKs skip it too). A host without a scheme gets
 * https://; trailing slashes are dropped. The token is never printed. */
#ifndef JOBCTL_CONFIG_H
#define JOBCTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* What the command line said; NULL fields were not given. */
struct config_flags {
	const char *host;
	const char *token;
	const char *profile;
	bool insecure;
};

struct config {
	char *host;    /* "http[s]://authority[/prefix]", no trailing slash */
	char *token;   /* wiped and freed by config_release() */
	bool insecure; /* skip TLS certificate and host name checks */
};

/* Fill cfg from flags, environment and file. Returns 0, or -1 with a message in
 * err (missing host or token, unreadable file, unknown profile, bad host). On
 * failure cfg holds nothing to release beyond what config_release() frees. */
int config_resolve(struct config *cfg, const struct config_flags *flags, char *err, size_t err_len);

void config_release(struct config *cfg);

#endif
