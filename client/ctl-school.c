/*
 * ecadmctl commands that read a school: its classes, the Responsables
 * rows, the counts per state and the journal. They only read; none
 * writes a file.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "state.h"
#include "table.h"
#include "xmalloc.h"

/* classes: the classes of the school, with their counts. */
int
cmd_classes(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "Classe", "Niveaux", "Élèves",
	    "Responsables", "Activés" };
	json_t		*res, *c;
	struct table	*t;
	char		*n[3];
	size_t		 i;

	(void)argv;
	if (argc > 1)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_CLASSES, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(json_object_get(res, "classes"));
		json_decref(res);
		return 0;
	}
	t = table_new(5, headers);
	table_align_right(t, 2);
	table_align_right(t, 3);
	table_align_right(t, 4);
	json_array_foreach(json_object_get(res, "classes"), i, c) {
		n[0] = jint(c, "pupils");
		n[1] = jint(c, "guardians");
		n[2] = jint(c, "activated");
		table_add(t, (const char *const[]){ jstr(c, "name"),
		    jstr(c, "levels"), n[0], n[1], n[2] });
		free(n[0]);
		free(n[1]);
		free(n[2]);
	}
	printf("%s — %s\n\n", jstr(res, "school_name") != NULL ?
	    jstr(res, "school_name") : jstr(res, "school"),
	    jstr(res, "school"));
	table_print(t, stdout, ctl_terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}

/* search: the rows of the Responsables tab. */
int
cmd_search(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "class", required_argument, NULL, 'c' },
		{ "state", required_argument, NULL, 's' },
		{ "query", required_argument, NULL, 'q' },
		{ "email", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "Élève", "Classe",
	    "Responsable", "Identifiant", "Mot de passe", "État", "Courriel",
	    "Remarque" };
	json_t		*args = json_object(), *classes = json_array();
	json_t			*res, *row;
	struct table		*t;
	const struct state_info	*st;
	const char		*state;
	size_t		 i;
	int		 ch;

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 'c':
			json_array_append_new(classes, json_string(optarg));
			break;
		case 's':
			json_object_set_new(args, "state", json_string(optarg));
			break;
		case 'q':
			json_object_set_new(args, "query", json_string(optarg));
			break;
		case 'e':
			json_object_set_new(args, "email", json_string(optarg));
			break;
		default:
			ctl_usage_command();
		}
	}
	if (optind != argc)
		ctl_usage_command();
	if (json_array_size(classes) > 0)
		json_object_set_new(args, "classes", classes);
	else
		json_decref(classes);
	if ((res = ctl_call(ctl, OP_SEARCH, args, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(json_object_get(res, "rows"));
		json_decref(res);
		return 0;
	}
	t = table_new(8, headers);
	json_array_foreach(json_object_get(res, "rows"), i, row) {
		st = state_of_row(row);
		state = st != NULL ? st->label : NULL;
		table_add(t, (const char *const[]){ jstr(row, "pupil"),
		    jstr(row, "class"), jstr(row, "guardian"),
		    jstr(row, "login"), jstr(row, "password"), state,
		    jstr(row, "email"), jstr(row, "reason") });
	}
	table_print(t, stdout, ctl_terminal_width());
	printf("\n%zu ligne%s%s\n", json_array_size(json_object_get(res,
	    "rows")), json_array_size(json_object_get(res, "rows")) > 1 ?
	    "s" : "", json_is_true(json_object_get(res, "truncated")) ?
	    " (liste tronquée : précisez la recherche)" : "");
	table_free(t);
	json_decref(res);
	return 0;
}

/* A table of per-group state counts (classes or levels). */
static void
stats_groups(json_t *groups, const char *title)
{
	const char	*headers[STATE__STORED + 2];
	struct table	*t;
	char		*cells[STATE__STORED + 2];
	json_t		*g;
	size_t		 i;
	int		 c;

	headers[0] = title;
	for (c = 0; c < STATE__STORED; c++)
		headers[1 + c] = state_info(c)->short_label;
	headers[STATE__STORED + 1] = "Total";
	t = table_new(STATE__STORED + 2, headers);
	for (c = 1; c < STATE__STORED + 2; c++)
		table_align_right(t, c);
	json_array_foreach(groups, i, g) {
		cells[0] = xstrdup(jstr(g, "name")[0] != '\0' ?
		    jstr(g, "name") : "(sans)");
		for (c = 0; c < STATE__STORED; c++)
			cells[c + 1] = jint(json_object_get(g, "states"),
			    state_info(c)->code);
		cells[STATE__STORED + 1] = jint(g, "total");
		table_add(t, (const char *const *)cells);
		for (c = 0; c < STATE__STORED + 2; c++)
			free(cells[c]);
	}
	table_print(t, stdout, ctl_terminal_width());
	table_free(t);
}

/* stats: the accounts per state, for the school, its classes and
 * levels. */
int
cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	static const char *const headers[] = { "État", "Comptes" };
	json_t		*res, *st;
	struct table	*t;
	char		*n;
	size_t		 i;

	(void)argv;
	if (argc > 1)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_STATS, NULL, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(res);
		json_decref(res);
		return 0;
	}
	t = table_new(2, headers);
	table_align_right(t, 1);
	json_array_foreach(json_object_get(res, "states"), i, st) {
		n = jint(st, "count");
		table_add(t, (const char *const[]){ jstr(st, "label"), n });
		free(n);
	}
	n = jint(res, "total");
	table_add(t, (const char *const[]){ "Total", n });
	free(n);
	printf("%s — %s\n\n", jstr(res, "school_name") != NULL ?
	    jstr(res, "school_name") : jstr(res, "school"),
	    jstr(res, "school"));
	table_print(t, stdout, 0);
	table_free(t);
	printf("\nResponsables ayant activé leur compte : %.0f %% ; élèves "
	    "avec au moins un responsable activé : %.0f %%\n",
	    100 * json_real_value(json_object_get(json_object_get(res,
	    "guardians"), "share")), 100 * json_real_value(json_object_get(
	    json_object_get(res, "pupils"), "share")));
	printf("Mots de passe provisoires qui expirent dans les 15 jours : "
	    "%lld\n\n", (long long)json_integer_value(json_object_get(res,
	    "expiring_15_days")));
	stats_groups(json_object_get(res, "classes"), "Classe");
	printf("\n");
	stats_groups(json_object_get(res, "levels"), "Niveau");
	json_decref(res);
	return 0;
}

/* journal: what was done in the school. */
int
cmd_journal(struct ctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const headers[] = { "Date", "Action", "Compte",
	    "Responsable", "Par", "Détail" };
	json_t		*args = json_object(), *res, *x;
	struct table	*t;
	size_t		 i;
	int		 ch;

	while ((ch = ctl_getopt(argc, argv, opts)) != -1) {
		switch (ch) {
		case 's':
			json_object_set_new(args, "since", json_string(optarg));
			break;
		case 'n':
			json_object_set_new(args, "limit",
			    json_integer(atoi(optarg)));
			break;
		default:
			ctl_usage_command();
		}
	}
	if (optind != argc)
		ctl_usage_command();
	if ((res = ctl_call(ctl, OP_JOURNAL, args, NULL)) == NULL)
		return EXIT_REFUSED;
	if (ctl->s.json) {
		ctl_print_json(json_object_get(res, "events"));
		json_decref(res);
		return 0;
	}
	t = table_new(6, headers);
	json_array_foreach(json_object_get(res, "events"), i, x)
		table_add(t, (const char *const[]){ jstr(x, "at"),
		    jstr(x, "label"), jstr(x, "login"), jstr(x, "guardian"),
		    jstr(x, "actor"), jstr(x, "detail") });
	table_print(t, stdout, ctl_terminal_width());
	table_free(t);
	json_decref(res);
	return 0;
}
