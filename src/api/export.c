/* export.c - runs/export: a notebook task run as HTML. */
#include "api/internal.h"
#include "http/server.h"

void runs_export(struct call *c);

void runs_export(struct call *c)
{
	reply_error(c, 501, "NOT_IMPLEMENTED", "%s %s is not implemented yet", http_method(c->req),
		    http_path(c->req));
}
