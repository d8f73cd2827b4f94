/* test-session.c - the page's login links and sessions (api/session.h): a link logs in once, within its time;
 * a second use, an expired link, a forged one and a forged session id are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/session.h"
#include "base/digest.h"
#include "base/fsutil.h"

#define NOW 1700000000LL

static char home[PATH_MAX];

static int setup(void **state)
{
        snprintf(home, sizeof home, "/tmp/test-session.XXXXXX");
        assert_non_null(mkdtemp(home));
        return 0;
}

static int teardown(void **state)
{
        fs_rm_rf(home);
        return 0;
}

static void link_file(const char *token, char *path, size_t size)
{
        struct digest d;
        char hex[DIGEST_HEX_LEN + 1];

        digest_buffer(token, strlen(token), &d);
        digest_to_hex(&d, hex);
        assert_int_equal(fs_path(path, size, "%s/keys/login/%s", home, hex), 0);
}

static void test_once(void **state)
{
        struct sessions *ss = NULL;
        struct error err = ERROR_INIT;
        char token[LOGIN_TOKEN_HEX + 1], id[LOGIN_TOKEN_HEX + 1], path[PATH_MAX];
        struct stat st;

        assert_int_equal(login_token_create(home, 300, NOW, token, &err), 0);
        assert_int_equal(strlen(token), LOGIN_TOKEN_HEX);
        link_file(token, path, sizeof path);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(sessions_new(&ss), 0);
        assert_int_equal(sessions_login(ss, home, token, NOW + 10, id, &err), 0);
        assert_true(sessions_check(ss, id, NOW + 11));
        assert_int_not_equal(stat(path, &st), 0); /* consumed */
        assert_false(sessions_check(ss, id, NOW + 10 + SESSION_TTL));

        error_clear(&err);
        assert_int_equal(sessions_login(ss, home, token, NOW + 12, id, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "used already"));
        sessions_free(ss);
}

static void test_expired(void **state)
{
        struct sessions *ss = NULL;
        struct error err = ERROR_INIT;
        char token[LOGIN_TOKEN_HEX + 1], id[LOGIN_TOKEN_HEX + 1] = "";

        assert_int_equal(sessions_new(&ss), 0);
        assert_int_equal(login_token_create(home, 300, NOW, token, &err), 0);
        assert_int_equal(sessions_login(ss, home, token, NOW + 300, id, &err), -STACK_EREJECT);
        assert_non_null(strstr(err.msg, "expired"));
        assert_false(sessions_check(ss, id, NOW + 300));
        sessions_free(ss);
}

static void test_forged(void **state)
{
        struct sessions *ss = NULL;
        struct error err = ERROR_INIT;
        char token[LOGIN_TOKEN_HEX + 1], id[LOGIN_TOKEN_HEX + 1], forged[LOGIN_TOKEN_HEX + 1];

        assert_int_equal(sessions_new(&ss), 0);
        assert_int_equal(login_token_create(home, 300, NOW, token, &err), 0);
        memcpy(forged, token, sizeof forged);
        forged[0] = forged[0] == 'a' ? 'b' : 'a';
        assert_int_equal(sessions_login(ss, home, forged, NOW, id, &err), -STACK_ENOTFOUND);
        error_clear(&err);
        assert_int_equal(sessions_login(ss, home, "../../etc/passwd", NOW, id, &err), -STACK_ENOTFOUND);
        error_clear(&err);
        assert_int_equal(sessions_login(ss, home, "", NOW, id, &err), -STACK_ENOTFOUND);
        error_clear(&err);
        /* the real one still works: a forged try does not burn it */
        assert_int_equal(sessions_login(ss, home, token, NOW, id, &err), 0);
        memcpy(forged, id, sizeof forged);
        forged[LOGIN_TOKEN_HEX - 1] = forged[LOGIN_TOKEN_HEX - 1] == '0' ? '1' : '0';
        assert_false(sessions_check(ss, forged, NOW));
        assert_false(sessions_check(ss, "", NOW));
        assert_false(sessions_check(ss, NULL, NOW));
        forged[10] = '\0';
        assert_false(sessions_check(ss, forged, NOW));
        assert_true(sessions_check(ss, id, NOW));
        sessions_free(ss);
}

static void test_many_sessions(void **state)
{
        struct sessions *ss = NULL;
        struct error err = ERROR_INIT;
        char token[LOGIN_TOKEN_HEX + 1], first[LOGIN_TOKEN_HEX + 1], id[LOGIN_TOKEN_HEX + 1];

        assert_int_equal(sessions_new(&ss), 0);
        for (int i = 0; i <= SESSIONS_MAX; i++) {
                assert_int_equal(login_token_create(home, 300, NOW + i, token, &err), 0);
                assert_int_equal(sessions_login(ss, home, token, NOW + i, i ? id : first, &err), 0);
        }
        assert_false(sessions_check(ss, first, NOW + SESSIONS_MAX)); /* the oldest made room */
        assert_true(sessions_check(ss, id, NOW + SESSIONS_MAX));
        sessions_free(ss);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
                cmocka_unit_test_setup_teardown(test_forged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_sessions, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
