/* test-composevars.c - compose's variables: interpolation semantics (checked against docker-compose 1.29 where
 * the two agree, see spec/run.md "Variables"), the dotenv syntax, and the bounds on hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/composevars.h"

/* A lookup over "K=V" strings (NULL-terminated); counts its calls. */
struct vars {
        const char *const *kv;
        int calls;
        char last[64];
};

static const char *vars_lookup(void *ctx, const char *name)
{
        struct vars *v = ctx;
        size_t n = strlen(name);

        v->calls++;
        snprintf(v->last, sizeof v->last, "%s", name);
        for (size_t i = 0; v->kv && v->kv[i]; i++)
                if (!strncmp(v->kv[i], name, n) && v->kv[i][n] == '=')
                        return v->kv[i] + n + 1;
        return NULL;
}

/* Expand s against kv; asserts success and returns the result (static buffer). */
static const char *xp(const char *s, const char *const *kv, struct interp_report *rep)
{
        static char out[4096];
        struct vars v = {.kv = kv};
        struct error err = ERROR_INIT;
        char *r = NULL;

        if (interp_expand(s, vars_lookup, &v, &r, rep, &err) != 0)
                fail_msg("interp_expand(\"%s\") failed: %s", s, err.msg);
        snprintf(out, sizeof out, "%s", r);
        free(r);
        return out;
}

/* Expand s expecting a refusal; returns the message (static buffer). */
static const char *xp_refused(const char *s, const char *const *kv)
{
        static struct error err;
        struct vars v = {.kv = kv};
        char *r = (char *)"untouched";

        error_clear(&err);
        assert_int_equal(interp_expand(s, vars_lookup, &v, &r, NULL, &err), -STACK_EREJECT);
        assert_int_equal(err.code, STACK_EREJECT);
        assert_string_equal(r, "untouched");
        return err.msg;
}

/* dotenv results as "K=V\n" lines. */
struct sink {
        char text[8192];
        int calls, fail_at;
};

static int sink_add(void *ctx, const char *key, const char *value)
{
        struct sink *s = ctx;
        size_t n = strlen(s->text);

        if (++s->calls == s->fail_at)
                return -STACK_EFAIL;
        snprintf(s->text + n, sizeof s->text - n, "%s=%s\n", key, value);
        return 0;
}

static int parse(const char *text, const char *const *kv, struct sink *s, struct error *err)
{
        struct vars v = {.kv = kv};

        memset(s->text, 0, sizeof s->text);
        s->calls = 0;
        return dotenv_parse(text, strlen(text), "b/.env", vars_lookup, &v, sink_add, s, err);
}

static const char *parse_refused(const char *text, const char *const *kv)
{
        static struct error err;
        struct sink s = {0};

        error_clear(&err);
        assert_int_equal(parse(text, kv, &s, &err), -STACK_EREJECT);
        assert_int_equal(err.code, STACK_EREJECT);
        return err.msg;
}

/* ---- the published examples ---- */

static void nested_default_of_the_httpd_catalog_entry_resolves(void **state)
{
        const char *const path_only[] = {"VOLUME_PATH=./vol/", NULL};
        const char *const both[] = {"VOLUME_PATH=./vol/", "VOLUME_HTDOCS=/srv/htdocs", NULL};
        const char *const empty[] = {"VOLUME_PATH=./vol/", "VOLUME_HTDOCS=", NULL};
        struct interp_report rep;

        assert_string_equal(xp("${VOLUME_HTDOCS:-${VOLUME_PATH}httpd_data}", path_only, &rep), "./vol/httpd_data");
        assert_int_equal(rep.flags, 0);
        assert_string_equal(xp("${VOLUME_HTDOCS:-${VOLUME_PATH}httpd_data}", both, NULL), "/srv/htdocs");
        assert_string_equal(xp("${VOLUME_HTDOCS:-${VOLUME_PATH}httpd_data}", empty, NULL), "./vol/httpd_data");
        assert_string_equal(xp("${VOLUME_HTDOCS-${VOLUME_PATH}httpd_data}", empty, NULL), "");
}

static void upload_location_comes_from_the_bundles_dotenv(void **state)
{
        struct sink s;
        struct error err = ERROR_INIT;
        const char *kv[2] = {NULL, NULL};

        assert_int_equal(parse("# immich\nUPLOAD_LOCATION=uploads\n", NULL, &s, &err), 0);
        assert_string_equal(s.text, "UPLOAD_LOCATION=uploads\n");
        kv[0] = "UPLOAD_LOCATION=uploads";
        assert_string_equal(xp("${UPLOAD_LOCATION}:/usr/src/app/upload", kv, NULL), "uploads:/usr/src/app/upload");
}

static void env_file_defaults_to_dot_env(void **state)
{
        const char *const set[] = {"ENV_FILE=prod.env", NULL};

        assert_string_equal(xp("${ENV_FILE:-.env}", NULL, NULL), ".env");
        assert_string_equal(xp("${ENV_FILE:-.env}", set, NULL), "prod.env");
}

static void unset_docker_socket_location_is_flagged_and_empty(void **state)
{
        const char *const set[] = {"DOCKER_SOCKET_LOCATION=/var/run/docker.sock", NULL};
        struct interp_report rep;

        assert_string_equal(xp("${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock", NULL, &rep), ":/var/run/docker.sock");
        assert_true(rep.flags & INTERP_UNSET_USED);
        assert_false(rep.flags & INTERP_REQUIRED_MISSING);
        assert_string_equal(rep.unset_name, "DOCKER_SOCKET_LOCATION");
        assert_string_equal(xp("${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock", set, &rep),
                            "/var/run/docker.sock:/var/run/docker.sock");
        assert_int_equal(rep.flags, 0);
}

/* ---- semantics ---- */

static void unset_and_empty_differ_for_each_operator(void **state)
{
        const char *const empty[] = {"A=", NULL};
        const char *const set[] = {"A=v", NULL};
        static const struct {
                const char *s, *unset, *empty, *set;
        } cases[] = {
                {"${A:-x}", "x", "x", "v"}, {"${A-x}", "x", "", "v"}, {"${A:+x}", "", "", "x"},
                {"${A+x}", "", "x", "x"},   {"${A}", "", "", "v"},    {"$A", "", "", "v"},
                {"${A:?m}", "", "", "v"},   {"${A?m}", "", "", "v"},  {"${A-}", "", "", "v"},
        };
        struct interp_report rep;

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                assert_string_equal(xp(cases[i].s, NULL, NULL), cases[i].unset);
                assert_string_equal(xp(cases[i].s, empty, NULL), cases[i].empty);
                assert_string_equal(xp(cases[i].s, set, NULL), cases[i].set);
        }
        /* Only a bare use of an unset variable is flagged; a default or alternative is an answer. */
        xp("${A}", NULL, &rep);
        assert_int_equal(rep.flags, INTERP_UNSET_USED);
        xp("${A:-x}${A-x}${A+x}${A:+x}", NULL, &rep);
        assert_int_equal(rep.flags, 0);
        xp("${A}", empty, &rep);
        assert_int_equal(rep.flags, 0);
}

static void required_missing_is_flagged_with_its_name_and_message(void **state)
{
        const char *const empty[] = {"DB_PASSWORD=", "WHO=the admin", NULL};
        struct interp_report rep;

        assert_string_equal(xp("pw=${DB_PASSWORD:?set it, ${WHO}}", empty, &rep), "pw=");
        assert_int_equal(rep.flags, INTERP_REQUIRED_MISSING);
        assert_string_equal(rep.required_name, "DB_PASSWORD");
        assert_string_equal(rep.required_msg, "set it, the admin");
        /* ${A?m} accepts an empty value; an unset one is missing, with no message. */
        xp("${DB_PASSWORD?}", empty, &rep);
        assert_int_equal(rep.flags, 0);
        xp("${NOPE?}", empty, &rep);
        assert_int_equal(rep.flags, INTERP_REQUIRED_MISSING);
        assert_string_equal(rep.required_name, "NOPE");
        assert_string_equal(rep.required_msg, "");
}

static void double_dollar_stays_literal_and_is_not_looked_up(void **state)
{
        const char *const kv[] = {"HOME=/root", "A=a", NULL};
        struct vars v = {.kv = kv};
        struct error err = ERROR_INIT;
        char *r;

        assert_int_equal(interp_expand("$$HOME $${A} $$$A", vars_lookup, &v, &r, NULL, &err), 0);
        assert_string_equal(r, "$HOME ${A} $a");
        assert_int_equal(v.calls, 1);
        assert_string_equal(v.last, "A");
        free(r);
        assert_string_equal(xp("${X:-$$}", NULL, NULL), "$");
        assert_false(interp_has_vars("$$HOME and $${A}"));
        assert_true(interp_has_vars("$$$A"));
}

static void dollar_that_is_no_variable_is_kept_and_flagged(void **state)
{
        struct interp_report rep;

        assert_string_equal(xp("PathRegexp(`^/x$`) $1 a $ b", NULL, &rep), "PathRegexp(`^/x$`) $1 a $ b");
        assert_int_equal(rep.flags, INTERP_LITERAL_DOLLAR);
        assert_false(interp_has_vars("PathRegexp(`^/x$`) $1 a $ b"));
        xp("plain", NULL, &rep);
        assert_int_equal(rep.flags, 0);
}

static void variable_names_end_at_the_first_other_character(void **state)
{
        const char *const kv[] = {"PROJECT=wp", "DOMAIN=stack.localhost", "A_1=z", NULL};

        assert_string_equal(xp("Host(`$PROJECT.$DOMAIN`)", kv, NULL), "Host(`wp.stack.localhost`)");
        assert_string_equal(xp("$A_1-$A_1x", kv, NULL), "z-");
        /* A bare `{` in a default does not open anything: the first `}` closes the expression. */
        assert_string_equal(xp("${N:-{x}}", NULL, NULL), "{x}");
}

static void malformed_expressions_are_refused_naming_the_text(void **state)
{
        static const char *const bad[] = {"${",     "a ${}",     "${A:x}", "${1}", "${A",
                                          "${A:-x", "${A:-${B}", "${A B}", "${-x}"};

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                const char *msg = xp_refused(bad[i], NULL);
                char want[64];
                snprintf(want, sizeof want, "\"%s\"", bad[i]);
                if (!strstr(msg, want) || !strstr(msg, "invalid interpolation"))
                        fail_msg("%s: %s", bad[i], msg);
        }
        assert_non_null(strstr(xp_refused("${A:x}", NULL), "unexpected ':' after ${A"));
        assert_non_null(strstr(xp_refused("${}", NULL), "names no variable"));
}

static void unused_branch_is_checked_but_not_looked_up(void **state)
{
        const char *const kv[] = {"A=set", NULL};
        struct vars v = {.kv = kv};
        struct error err = ERROR_INIT;
        struct interp_report rep;
        char *r;

        assert_int_equal(interp_expand("${A:-${B}}${A:+${C}}", vars_lookup, &v, &r, &rep, &err), 0);
        assert_string_equal(r, "set");
        free(r);
        /* A and A, then C (the alternative is used); B never. */
        assert_int_equal(v.calls, 3);
        assert_int_equal(rep.flags, INTERP_UNSET_USED);
        assert_string_equal(rep.unset_name, "C");
        /* A malformed branch is refused even when it is not taken. */
        xp_refused("${A:-${}}", kv);
        xp_refused("${A:-${B:x}}", kv);
}

/* "${V0:-${V1:-...deep}}" with levels expressions. */
static void nest(char *s, size_t cap, int levels)
{
        size_t n = 0;

        for (int i = 0; i < levels; i++)
                n += (size_t)snprintf(s + n, cap - n, "${V%d:-", i);
        n += (size_t)snprintf(s + n, cap - n, "deep");
        for (int i = 0; i < levels; i++)
                s[n++] = '}';
        s[n] = 0;
}

static void deep_nesting_is_bounded(void **state)
{
        char s[16384];

        nest(s, sizeof s, INTERP_MAX_DEPTH);
        assert_string_equal(xp(s, NULL, NULL), "deep");
        nest(s, sizeof s, INTERP_MAX_DEPTH + 1);
        assert_non_null(strstr(xp_refused(s, NULL), "nested deeper than 32 levels"));
        /* Unused branches count as well: their depth is checked without evaluating them. */
        memcpy(s, "${A:+", 5);
        nest(s + 5, sizeof s - 5, INTERP_MAX_DEPTH);
        strcat(s, "}");
        assert_non_null(strstr(xp_refused(s, NULL), "nested deeper than 32 levels"));
        nest(s, sizeof s, 1000);
        assert_non_null(strstr(xp_refused(s, NULL), "nested deeper than 32 levels"));
}

static void output_size_is_bounded(void **state)
{
        char *big = malloc(100 * 1024 + 3);
        const char *kv[] = {NULL, NULL};
        const char *msg;

        assert_non_null(big);
        memcpy(big, "A=", 2);
        memset(big + 2, 'x', 100 * 1024);
        big[100 * 1024 + 2] = 0;
        kv[0] = big;
        assert_int_equal(strlen(xp("$A", kv, NULL)), 4095); /* xp's buffer truncates; the expansion succeeded */
        msg = xp_refused("$A$A$A", kv);
        assert_non_null(strstr(msg, "expands to more than 262144 bytes"));
        free(big);
}

static void escape_doubles_every_dollar_and_reads_back_as_the_text(void **state)
{
        static const char *const texts[] = {"a$b$$c", "${A:-x}", "^/x$", "", "no dollars", "$"};
        char *e;

        assert_int_equal(interp_escape("a$b$$c", &e), 0);
        assert_string_equal(e, "a$$b$$$$c");
        free(e);
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                struct interp_report rep;
                assert_int_equal(interp_escape(texts[i], &e), 0);
                assert_false(interp_has_vars(e));
                assert_string_equal(xp(e, NULL, &rep), texts[i]);
                assert_int_equal(rep.flags, 0);
                free(e);
        }
}

/* ---- dotenv ---- */

static void dotenv_reads_the_syntax_compose_reads(void **state)
{
        static const char text[] = "\xef\xbb\xbf# a comment\n"
                                   "\n"
                                   "   \t\n"
                                   "PLAIN=value   \n"
                                   "export EXPORTED=yes\n"
                                   "EMPTY=\n"
                                   "SPACED = around the sign \n"
                                   "COMMENTED=kept # dropped # also dropped\n"
                                   "HASH=#kept\n"
                                   "MID=a#b\n"
                                   "SINGLE='${PLAIN} # \\n literal'  # comment\n"
                                   "DOUBLE=\"tab\\tnl\\nq\\\"bs\\\\ \\y ${PLAIN}\"\n"
                                   "MULTI=\"line one\n"
                                   "line two\"\n"
                                   "my.key-1=dotted\n"
                                   "CRLF=windows\r\n"
                                   "QCRLF=\"q\"\r\n"
                                   "LAST=no newline";
        struct sink s;
        struct error err = ERROR_INIT;

        assert_int_equal(parse(text, NULL, &s, &err), 0);
        assert_string_equal(s.text, "PLAIN=value\n"
                                    "EXPORTED=yes\n"
                                    "EMPTY=\n"
                                    "SPACED=around the sign\n"
                                    "COMMENTED=kept\n"
                                    "HASH=#kept\n"
                                    "MID=a#b\n"
                                    "SINGLE=${PLAIN} # \\n literal\n"
                                    "DOUBLE=tab\tnl\nq\"bs\\ \\y value\n"
                                    "MULTI=line one\nline two\n"
                                    "my.key-1=dotted\n"
                                    "CRLF=windows\n"
                                    "QCRLF=q\n"
                                    "LAST=no newline\n");
}

static void dotenv_interpolates_against_the_lookup_then_earlier_keys(void **state)
{
        static const char text[] = "VOLUME_PATH=./vol/\n"
                                   "HTDOCS=${VOLUME_PATH}htdocs\n"
                                   "BARE=$VOLUME_PATH/x\n"
                                   "NESTED=${NOPE:-${VOLUME_PATH}}\n"
                                   "LITERAL=$$VOLUME_PATH\n"
                                   "UNSET=[${NOWHERE}]\n";
        const char *const env[] = {"VOLUME_PATH=/env/", NULL};
        struct sink s;
        struct error err = ERROR_INIT;

        assert_int_equal(parse(text, NULL, &s, &err), 0);
        assert_string_equal(s.text, "VOLUME_PATH=./vol/\nHTDOCS=./vol/htdocs\nBARE=./vol//x\nNESTED=./vol/\n"
                                    "LITERAL=$VOLUME_PATH\nUNSET=[]\n");
        /* The environment wins over the file's own earlier key (compose v2). */
        assert_int_equal(parse(text, env, &s, &err), 0);
        assert_non_null(strstr(s.text, "HTDOCS=/env/htdocs\n"));
}

static void dotenv_refuses_a_cycle(void **state)
{
        const char *msg = parse_refused("# two keys that need each other\nA=${B}\nB=${A}\n", NULL);
        const char *const env[] = {"B=from the environment", NULL};
        struct sink s;
        struct error err = ERROR_INIT;

        assert_string_equal(msg, "b/.env:2: not valid dotenv: A uses B, which only line 3 sets "
                                 "(a cycle or a forward reference)");
        /* Longer cycles, and the same inside a default, are the same forward use. */
        assert_non_null(strstr(parse_refused("A=${B}\nB=${C}\nC=${A}\n", NULL), "b/.env:1:"));
        assert_non_null(strstr(parse_refused("A=x${B:+${C}}\nB=1\nC=${A}\n", NULL), "b/.env:1:"));
        /* When the environment provides B, there is no cycle: compose reads it from there. */
        assert_int_equal(parse("A=${B}\nB=${A}\n", env, &s, &err), 0);
        assert_string_equal(s.text, "A=from the environment\nB=from the environment\n");
}

static void dotenv_refuses_a_self_reference_but_accepts_a_self_default(void **state)
{
        const char *const env[] = {"DOMAIN=example.org", NULL};
        struct sink s;
        struct error err = ERROR_INIT;

        assert_string_equal(parse_refused("\nPATH=${PATH}:/x\n", NULL),
                            "b/.env:2: not valid dotenv: PATH refers to itself");
        assert_int_equal(parse("DOMAIN=${DOMAIN:-stack.localhost}\n", NULL, &s, &err), 0);
        assert_string_equal(s.text, "DOMAIN=stack.localhost\n");
        assert_int_equal(parse("DOMAIN=${DOMAIN:-stack.localhost}\n", env, &s, &err), 0);
        assert_string_equal(s.text, "DOMAIN=example.org\n");
        /* A key set earlier is not a self reference. */
        assert_int_equal(parse("A=1\nA=${A}2\n", NULL, &s, &err), 0);
        assert_string_equal(s.text, "A=1\nA=12\n");
}

static void dotenv_invalid_lines_name_the_file_and_line(void **state)
{
        static const struct {
                const char *text, *msg;
        } cases[] = {
                {"A=1\n# c\njust words\n", "b/.env:3: not valid dotenv: a line without '=' (expected KEY=VALUE)"},
                {"1A=x\n", "b/.env:1: not valid dotenv: bad key '1A' (expected [A-Za-z_][A-Za-z0-9_.-]*)"},
                {"A=1\nA B=2\n", "b/.env:2: not valid dotenv: bad key 'A B' (expected [A-Za-z_][A-Za-z0-9_.-]*)"},
                {"=x\n", "b/.env:1: not valid dotenv: bad key '' (expected [A-Za-z_][A-Za-z0-9_.-]*)"},
                {"A=1\nB=\"open\nstill open\n", "b/.env:2: not valid dotenv: unterminated double-quoted value"},
                {"A='open\n", "b/.env:1: not valid dotenv: unterminated single-quoted value"},
                {"A=\"ends in a backslash\\", "b/.env:1: not valid dotenv: unterminated double-quoted value"},
                {"A=\"x\ny\" trailing\n", "b/.env:2: not valid dotenv: text after the closing quote"},
                {"A=1\nB=${C\n",
                 "b/.env:2: not valid dotenv: invalid interpolation in \"${C\": '${' without a closing '}'"},
                {"A=${NEED:?set NEED}\n", "b/.env:1: not valid dotenv: A requires NEED, which has no value"},
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_string_equal(parse_refused(cases[i].text, NULL), cases[i].msg);
}

static void dotenv_with_a_nul_byte_is_refused_at_its_line(void **state)
{
        static const char text[] = "A=1\nB=x\0y\n";
        struct sink s = {0};
        struct error err = ERROR_INIT;

        assert_int_equal(dotenv_parse(text, sizeof text - 1, "b/.env", NULL, NULL, sink_add, &s, &err), -STACK_EREJECT);
        assert_string_equal(err.msg, "b/.env:2: not valid dotenv: a NUL byte");
        assert_int_equal(s.calls, 0);
}

static void dotenv_doubling_chain_is_bounded(void **state)
{
        char *text = malloc(64 * 1024);
        size_t n = 0;
        const char *msg;

        assert_non_null(text);
        n += (size_t)snprintf(text, 64 * 1024, "V0=%01000d\n", 0);
        for (int i = 1; i < 40; i++)
                n += (size_t)snprintf(text + n, 64 * 1024 - n, "V%d=${V%d}${V%d}\n", i, i - 1, i - 1);
        msg = parse_refused(text, NULL);
        assert_non_null(strstr(msg, "b/.env:"));
        assert_non_null(strstr(msg, "expands to more than 262144 bytes"));

        /* Many copies of one large value: the total is bounded too. */
        free(text);
        text = malloc(300 * 1024);
        assert_non_null(text);
        n = (size_t)snprintf(text, 300 * 1024, "BIG=%0200000d\n", 0);
        for (int i = 0; i < 40; i++)
                n += (size_t)snprintf(text + n, 300 * 1024 - n, "C%d=$BIG\n", i);
        msg = parse_refused(text, NULL);
        assert_non_null(strstr(msg, "values expand to more than 4 MiB in all"));
        free(text);
}

static void dotenv_stops_when_the_callback_fails(void **state)
{
        struct sink s = {.fail_at = 2};
        struct error err = ERROR_INIT;

        assert_int_equal(dotenv_parse("A=1\nB=2\nC=3\n", 12, "b/.env", NULL, NULL, sink_add, &s, &err), -STACK_EFAIL);
        assert_int_equal(s.calls, 2);
        assert_string_equal(s.text, "A=1\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(nested_default_of_the_httpd_catalog_entry_resolves),
                cmocka_unit_test(upload_location_comes_from_the_bundles_dotenv),
                cmocka_unit_test(env_file_defaults_to_dot_env),
                cmocka_unit_test(unset_docker_socket_location_is_flagged_and_empty),
                cmocka_unit_test(unset_and_empty_differ_for_each_operator),
                cmocka_unit_test(required_missing_is_flagged_with_its_name_and_message),
                cmocka_unit_test(double_dollar_stays_literal_and_is_not_looked_up),
                cmocka_unit_test(dollar_that_is_no_variable_is_kept_and_flagged),
                cmocka_unit_test(variable_names_end_at_the_first_other_character),
                cmocka_unit_test(malformed_expressions_are_refused_naming_the_text),
                cmocka_unit_test(unused_branch_is_checked_but_not_looked_up),
                cmocka_unit_test(deep_nesting_is_bounded),
                cmocka_unit_test(output_size_is_bounded),
                cmocka_unit_test(escape_doubles_every_dollar_and_reads_back_as_the_text),
                cmocka_unit_test(dotenv_reads_the_syntax_compose_reads),
                cmocka_unit_test(dotenv_interpolates_against_the_lookup_then_earlier_keys),
                cmocka_unit_test(dotenv_refuses_a_cycle),
                cmocka_unit_test(dotenv_refuses_a_self_reference_but_accepts_a_self_default),
                cmocka_unit_test(dotenv_invalid_lines_name_the_file_and_line),
                cmocka_unit_test(dotenv_with_a_nul_byte_is_refused_at_its_line),
                cmocka_unit_test(dotenv_doubling_chain_is_bounded),
                cmocka_unit_test(dotenv_stops_when_the_callback_fails),
        };
        return cmocka_run_group_tests_name("composevars", tests, NULL, NULL);
}
