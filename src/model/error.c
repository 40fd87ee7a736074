/* error.c - see error.h. */
#include "model/error.h"

#include <stdarg.h>
#include <stdio.h>

int model_fail(struct model_error *err, int status, const char *code, const char *fmt, ...)
{
	if (!err)
		return -1;
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}
