/*
 * The accounts an operation on many applies to, as notify and list take
 * them: some classes of the school, some logins, or the whole school;
 * exactly one. The lists become text[] literals for the queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "server.h"

char *
sql_text_array(json_t *list)
{
	struct buf	 b;
	json_t		*item;
	const char	*p;
	size_t		 i;

	buf_init(&b);
	buf_add_str(&b, "{");
	json_array_foreach(list, i, item) {
		/* Every element quoted, quotes and backslashes escaped. */
		buf_add_str(&b, i > 0 ? ",\"" : "\"");
		for (p = json_string_value(item); *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_add(&b, "\\", 1);
			buf_add(&b, p, 1);
		}
		buf_add_str(&b, "\"");
	}
	buf_add_str(&b, "}");
	return buf_cstr(&b);
}

int
selection_parse(struct request *req, struct selection *sel)
{
	int	all = req_arg_bool(req, "all", 0);

	memset(sel, 0, sizeof *sel);
	sel->classes = req_arg_strings(req, "classes");
	sel->logins = req_arg_strings(req, "logins");
	if (req->error != -1)
		return -1;
	if ((sel->classes != NULL) + (sel->logins != NULL) + (all != 0) != 1 ||
	    (sel->classes != NULL && json_array_size(sel->classes) == 0) ||
	    (sel->logins != NULL && json_array_size(sel->logins) == 0)) {
		req_error(req, E_INVALID, "Choisissez des classes, des "
		    "identifiants ou toute l'école (--class, --login ou "
		    "--all).");
		return -1;
	}
	snprintf(sel->school, sizeof sel->school, "%d", req->scope.school_id);
	if (sel->classes != NULL)
		sel->classes_sql = sql_text_array(sel->classes);
	if (sel->logins != NULL)
		sel->logins_sql = sql_text_array(sel->logins);
	sel->params[0] = sel->school;
	sel->params[1] = sel->classes_sql;
	sel->params[2] = sel->logins_sql;
	return 0;
}

void
selection_free(struct selection *sel)
{
	json_decref(sel->classes);
	json_decref(sel->logins);
	free(sel->classes_sql);
	free(sel->logins_sql);
	memset(sel, 0, sizeof *sel);
}
