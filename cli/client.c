/* client.c - libcurl transport and JSON error handling for jobctl (client.h).
 *
 * Redirects are not followed: a redirect would carry the bearer token to
 * whatever host the Location names, and jobsd never redirects API calls. Only
 * http and https are allowed, so a hostile host value cannot reach file:// etc.
 * Response bodies are collected in memory up to CLIENT_MAX_BODY_BYTES; the write
 * callback aborts the transfer beyond that, so a runaway server cannot exhaust
 * memory. */
#include "client.h"

#include "command.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct client {
	CURL *curl;
	char *host;
	struct curl_slist *get_headers;
	struct curl_slist *post_headers;
	char curl_err[CURL_ERROR_SIZE];
	char *error; /* message of the last failure; NULL before the first one */
};

/* What one request gathers from libcurl's callbacks. */
struct response {
	struct strbuf body;
	bool too_big;
	char status_line[256]; /* last "HTTP/x 404 Not Found", CR/LF removed */
};

static struct curl_slist *slist_add(struct curl_slist *list, const char *header)
{
	struct curl_slist *l = curl_slist_append(list, header);
	if (!l) {
		fprintf(stderr, "Error: out of memory\n");
		exit(1);
	}
	return l;
}

/* The header lists are built once per client. The Authorization line is built
 * in a scratch buffer that is wiped right after libcurl has copied it. */
static void build_headers(struct client *c, const char *token)
{
	char *auth = xasprintf("Authorization: Bearer %s", token);
	const char *common[] = {auth, "Accept: application/json"};
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		c->get_headers = slist_add(c->get_headers, common[i]);
		c->post_headers = slist_add(c->post_headers, common[i]);
	}
	explicit_bzero(auth, strlen(auth));
	free(auth);
	c->post_headers = slist_add(c->post_headers, "Content-Type: application/json");
	/* Without this libcurl sends "Expect: 100-continue" for bodies over 1 MiB
	 * (workspace imports) and waits a second for servers that ignore it. */
	c->post_headers = slist_add(c->post_headers, "Expect:");
}

static void set_common_options(struct client *c, bool insecure)
{
	CURL *h = c->curl;
	curl_easy_setopt(h, CURLOPT_USERAGENT, "jobctl/" JOBCTL_VERSION);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_S);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLIENT_MAX_BODY_BYTES);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85.0 deprecated the bitmask form */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (insecure) {
		/* jobsd is often run with a self-signed certificate; the user asked. */
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

struct client *client_new(const char *host, const char *token, bool insecure)
{
	CURL *h = curl_easy_init();
	if (!h)
		return NULL;
	struct client *c = xmalloc(sizeof(*c));
	*c = (struct client){.curl = h, .host = xstrdup(host)};
	build_headers(c, token);
	set_common_options(c, insecure);
	return c;
}

void client_free(struct client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	/* The header lists hold the token: wipe before libcurl frees them. */
	for (struct curl_slist *l = c->get_headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	for (struct curl_slist *l = c->post_headers; l; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(c->get_headers);
	curl_slist_free_all(c->post_headers);
	free(c->host);
	free(c->error);
	free(c);
}

const char *client_error(const struct client *c) { return c->error ? c->error : "unknown error"; }

/* Record a failure message. Text from the server is made one clean line:
 * line breaks become spaces, trailing blanks go, other control characters are
 * neutralized so they cannot drive the terminal. */
static void set_error(struct client *c, const char *msg)
{
	char *line = xstrdup(msg);
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	size_t n = strlen(line);
	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	free(c->error);
	c->error = sanitize_dup(line);
	free(line);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response *r = userdata;
	size_t n = size * nmemb;
	if (n > CLIENT_MAX_BODY_BYTES - r->body.len) {
		r->too_big = true;
		return 0; /* makes libcurl abort with CURLE_WRITE_ERROR */
	}
	strbuf_add(&r->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct response *r = userdata;
	size_t n = size * nmemb;
	/* Keep the last status line: a "100 Continue" may come before the real one. */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		size_t keep = n < sizeof(r->status_line) - 1 ? n : sizeof(r->status_line) - 1;
		memcpy(r->status_line, data, keep);
		r->status_line[keep] = '\0';
		r->status_line[strcspn(r->status_line, "\r\n")] = '\0';
	}
	return n;
}

/* host + path + "?k=v&..." with every value percent-encoded. */
static char *build_url(struct client *c, const char *path, const struct query_param *params,
		       size_t nparams)
{
	struct strbuf url = {0};
	strbuf_adds(&url, c->host);
	strbuf_adds(&url, path);
	char sep = '?';
	for (size_t i = 0; i < nparams; i++) {
		if (!params[i].value)
			continue;
		char *esc = curl_easy_escape(c->curl, params[i].value, 0);
		if (!esc) {
			fprintf(stderr, "Error: out of memory\n");
			exit(1);
		}
		strbuf_addf(&url, "%c%s=%s", sep, params[i].key, esc);
		curl_free(esc);
		sep = '&';
	}
	return strbuf_detach(&url, NULL);
}

/* The message an error response carries, if its body is JSON that has one. */
static char *error_message_from_body(const struct response *r)
{
	json_t *root = json_loadb(r->body.buf ? r->body.buf : "", r->body.len, 0, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return NULL;
	}
	static const char *const keys[] = {"message", "detail", "error"};
	char *msg = NULL;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !msg; i++) {
		const char *v = json_string_value(json_object_get(root, keys[i]));
		if (v && *v)
			msg = xstrdup(v);
	}
	json_decref(root);
	return msg;
}

static void set_http_error(struct client *c, const struct response *r, long status)
{
	char *msg = error_message_from_body(r);
	if (msg) {
		set_error(c, msg);
		free(msg);
	} else if (r->status_line[0]) {
		set_error(c, r->status_line);
	} else {
		char buf[64];
		snprintf(buf, sizeof(buf), "HTTP status %ld", status);
		set_error(c, buf);
	}
}

static void set_transport_error(struct client *c, CURLcode rc, const struct response *r)
{
	char *msg;
	if (r->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		msg = xasprintf("the response from %s is larger than %zu MiB", c->host,
				CLIENT_MAX_BODY_BYTES / (1024 * 1024));
	else
		msg = xasprintf("request to %s failed: %s", c->host,
				c->curl_err[0] ? c->curl_err : curl_easy_strerror(rc));
	set_error(c, msg);
	free(msg);
}

/* A 2xx body must be a JSON object; empty means {}. */
static int parse_success_body(struct client *c, const struct response *r, json_t **out)
{
	if (r->body.len == 0) {
		*out = json_object();
		return 0;
	}
	json_error_t jerr;
	json_t *root = json_loadb(r->body.buf, r->body.len, 0, &jerr);
	if (!json_is_object(root)) {
		char *msg =
			root ? xasprintf("the server did not answer with a JSON object")
			     : xasprintf("the server answered with invalid JSON: %s", jerr.text);
		set_error(c, msg);
		free(msg);
		json_decref(root);
		return -1;
	}
	*out = root;
	return 0;
}

/* Run the request configured on c->curl and turn the outcome into *out or an
 * error message. */
static int perform(struct client *c, const char *url, json_t **out)
{
	struct response r = {0};
	c->curl_err[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &r);

	int rc = -1;
	CURLcode cc = curl_easy_perform(c->curl);
	long status = 0;
	if (cc != CURLE_OK) {
		set_transport_error(c, cc, &r);
	} else {
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			rc = parse_success_body(c, &r, out);
		else
			set_http_error(c, &r, status);
	}
	strbuf_release(&r.body);
	return rc;
}

int client_get(struct client *c, const char *path, const struct query_param *params, size_t nparams,
	       json_t **out)
{
	char *url = build_url(c, path, params, nparams);
	curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->get_headers);
	int rc = perform(c, url, out);
	free(url);
	return rc;
}

int client_post(struct client *c, const char *path, const json_t *body, json_t **out)
{
	char *text = json_dumps(body, JSON_COMPACT);
	if (!text) {
		set_error(c, "cannot encode the request body as JSON");
		return -1;
	}
	char *url = build_url(c, path, NULL, 0);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->post_headers);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(text));
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
	int rc = perform(c, url, out);
	/* libcurl does not copy POSTFIELDS: detach it before the buffer goes. */
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, NULL);
	free(text);
	free(url);
	return rc;
}
