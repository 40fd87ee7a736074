/* error.h - the error a model function reports: an HTTP status, an API
 * error_code and a message that names the offending field. The API layer
 * turns it into {"error_code": ..., "message": ...} unchanged. */
#ifndef JOBSD_MODEL_ERROR_H
#define JOBSD_MODEL_ERROR_H

struct model_error {
	int status;    /* HTTP status, e.g. 400 */
	char code[48]; /* e.g. INVALID_PARAMETER_VALUE */
	char message[1024];
};

/* Fills err (if not NULL) and returns -1, so callers can `return model_fail(...)`. */
int model_fail(struct model_error *err, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define MODEL_INVALID	"INVALID_PARAMETER_VALUE"
#define MODEL_MALFORMED "MALFORMED_REQUEST"

#endif
