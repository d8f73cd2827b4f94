/* testlib.c - see testlib.h. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <sqlite3.h>

#include "base/fsutil.h"

extern char **environ;
char tl_out[65536], tl_err[65536];
static char tmp_root[PATH_MAX / 2];

static void tl_cleanup(void)
{
        if (tmp_root[0])
                fs_rm_rf(tmp_root);
}

json_t *tl_load_json(const char *rel)
{
        const char *src = getenv("STACK_SRC");
        char path[4096];
        json_error_t je;
        json_t *j;

        snprintf(path, sizeof path, "%s/%s", src ? src : ".", rel);
        j = json_load_file(path, 0, &je);
        if (!j)
                fprintf(stderr, "cannot load %s: %s\n", path, je.text);
        return j;
}

const char *tl_tmpdir(void)
{
        static int n;
        static char path[PATH_MAX];

        if (!tmp_root[0]) {
                snprintf(tmp_root, sizeof tmp_root, "%s/stack-test-XXXXXX",
                         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
                if (!mkdtemp(tmp_root))
                        abort();
                atexit(tl_cleanup);
        }
        snprintf(path, sizeof path, "%s/%d", tmp_root, n++);
        if (mkdir(path, 0755) < 0)
                abort();
        return path;
}

void tl_valid_entries(struct tl_entry out[2], const char *slug, const char *version)
{
        static char yaml[8][512];
        static int k;
        char *y = yaml[k++ % 8];

        snprintf(y, 512,
                 "slug: %s\nname: Test %s\nflavor: DockerCompose\nversion: \"%s\"\ndescription: a test stack\n"
                 "author: tests\nlicense: MIT\n",
                 slug, slug, version);
        out[0] = (struct tl_entry){.path = "stack.yaml", .type = 'f', .data = y, .len = strlen(y)};
        out[1] = (struct tl_entry){.path = "compose.yaml",
                                   .type = 'f',
                                   .data = "services:\n  web:\n    image: busybox\n",
                                   .len = strlen("services:\n  web:\n    image: busybox\n")};
}

int tl_write_bundle(const char *path, enum tl_compression c, const struct tl_entry *e, size_t n)
{
        struct archive *a = archive_write_new();
        struct archive_entry *ae = archive_entry_new();
        static char buf[1 << 16];
        uint64_t rnd = 0x9e3779b97f4a7c15ULL;
        int r = -1;

        archive_write_set_format_pax_restricted(a);
        if (c == TL_ZSTD)
                archive_write_add_filter_zstd(a);
        else if (c == TL_GZIP)
                archive_write_add_filter_gzip(a);
        if (archive_write_open_filename(a, path) != ARCHIVE_OK)
                goto done;
        for (size_t i = 0; i < n; i++) {
                archive_entry_clear(ae);
                archive_entry_set_pathname(ae, e[i].path);
                archive_entry_set_mtime(ae, 0, 0);
                switch (e[i].type) {
                case 'd':
                        archive_entry_set_filetype(ae, AE_IFDIR);
                        archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0755);
                        break;
                case 'l':
                        archive_entry_set_filetype(ae, AE_IFLNK);
                        archive_entry_set_perm(ae, 0777);
                        archive_entry_set_symlink(ae, e[i].target);
                        break;
                case 'h':
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_hardlink(ae, e[i].target);
                        break;
                case 'c':
                        archive_entry_set_filetype(ae, AE_IFCHR);
                        archive_entry_set_perm(ae, 0644);
                        archive_entry_set_rdev(ae, makedev(1, 3));
                        break;
                case 'p':
                        archive_entry_set_filetype(ae, AE_IFIFO);
                        archive_entry_set_perm(ae, 0644);
                        break;
                default:
                        archive_entry_set_filetype(ae, AE_IFREG);
                        archive_entry_set_perm(ae, e[i].mode ? e[i].mode : 0644);
                        archive_entry_set_size(ae, (la_int64_t)e[i].len);
                }
                if (archive_write_header(a, ae) != ARCHIVE_OK)
                        goto done;
                if (e[i].type == 'f' || e[i].type == 0) {
                        size_t left = e[i].len;
                        if (e[i].data && !e[i].fill) {
                                if (archive_write_data(a, e[i].data, e[i].len) < 0)
                                        goto done;
                                continue;
                        }
                        while (left) {
                                size_t k = left < sizeof buf ? left : sizeof buf;
                                if (e[i].fill == 'r')
                                        for (size_t j = 0; j < k; j++) {
                                                rnd ^= rnd << 13;
                                                rnd ^= rnd >> 7;
                                                rnd ^= rnd << 17;
                                                buf[j] = (char)rnd;
                                        }
                                else
                                        memset(buf, 0, k);
                                if (archive_write_data(a, buf, k) < 0)
                                        goto done;
                                left -= k;
                        }
                }
        }
        r = archive_write_close(a) == ARCHIVE_OK ? 0 : -1;
done:
        if (r < 0)
                fprintf(stderr, "tl_write_bundle: %s\n", archive_error_string(a));
        archive_entry_free(ae);
        archive_write_free(a);
        return r;
}

static void slurp(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY);
        size_t len = 0;

        buf[0] = 0;
        if (fd < 0)
                return;
        for (;;) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = 0;
        close(fd);
}

int tl_run(const char *home, const char *extra_env, const char *const *args)
{
        const char *bin = getenv("STACK_BIN");
        char out_path[PATH_MAX], err_path[PATH_MAX], home_env[PATH_MAX + 16];
        posix_spawn_file_actions_t fa;
        char *argv[64], *envp[512];
        size_t ne = 0, na = 0;
        pid_t pid;
        int status;

        if (!bin) {
                fprintf(stderr, "STACK_BIN is not set\n");
                return -1;
        }
        tl_tmpdir(); /* makes tmp_root */
        snprintf(out_path, sizeof out_path, "%s/.out", tmp_root);
        snprintf(err_path, sizeof err_path, "%s/.err", tmp_root);
        snprintf(home_env, sizeof home_env, "STACK_HOME=%s", home);
        for (char **e = environ; *e && ne < 500; e++)
                if (strncmp(*e, "STACK_HOME=", 11) && strncmp(*e, "STACK_MAX_", 10))
                        envp[ne++] = *e;
        envp[ne++] = home_env;
        if (extra_env)
                envp[ne++] = (char *)extra_env;
        envp[ne] = NULL;
        argv[na++] = (char *)bin;
        for (; args[na - 1] && na < 63; na++)
                argv[na] = (char *)args[na - 1];
        argv[na] = NULL;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (posix_spawn(&pid, bin, &fa, NULL, argv, envp) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -1;
        }
        posix_spawn_file_actions_destroy(&fa);
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        slurp(out_path, tl_out, sizeof tl_out);
        slurp(err_path, tl_err, sizeof tl_err);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int tl_count_lines(const char *s)
{
        int n = 0;

        for (const char *p = s; *p; p++)
                if (*p == '\n' || !p[1])
                        n++;
        return n;
}

static long long count_rows(sqlite3 *db, const char *table)
{
        char sql[128];
        sqlite3_stmt *st;
        long long n = -1;

        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return -1;
        if (sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

static void walk(const char *dir, long long *count, uint64_t *hash)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                struct stat st;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        walk(path, count, hash);
                        continue;
                }
                (*count)++;
                /* order-independent: a sum of per-path FNV-1a */
                uint64_t h = 1469598103934665603ULL;
                for (const char *p = path; *p; p++)
                        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
                *hash += h;
        }
        closedir(d);
}

int tl_snapshot(const char *home, struct tl_snapshot *ret)
{
        char path[PATH_MAX];
        sqlite3 *db;

        memset(ret, 0, sizeof *ret);
        snprintf(path, sizeof path, "%s/index.db", home);
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
                sqlite3_close(db);
                return -1;
        }
        ret->versions = count_rows(db, "versions");
        ret->trees = count_rows(db, "trees");
        ret->entries = count_rows(db, "entries");
        ret->objects = count_rows(db, "objects");
        ret->stacks = count_rows(db, "stacks");
        ret->bundles = count_rows(db, "bundles");
        sqlite3_close(db);
        snprintf(path, sizeof path, "%s/objects", home);
        walk(path, &ret->object_files, &ret->names_hash);
        snprintf(path, sizeof path, "%s/tmp", home);
        walk(path, &ret->temp_files, &ret->names_hash);
        return 0;
}

bool tl_snapshot_equal(const struct tl_snapshot *a, const struct tl_snapshot *b)
{
        return memcmp(a, b, sizeof *a) == 0;
}

struct store *tl_store_new(void)
{
        struct error err = ERROR_INIT;
        struct store *s = NULL;

        if (store_open(tl_tmpdir(), &s, &err) < 0) {
                fprintf(stderr, "tl_store_new: %s\n", err.msg);
                abort();
        }
        return s;
}

int tl_ingest(struct store *s, enum tl_compression c, const struct tl_entry *e, size_t n,
              const struct ingest_limits *limits, struct ingest **ret, struct error *err)
{
        static int k;
        char path[PATH_MAX];
        struct ingest *ing = NULL;
        int fd, r;

        snprintf(path, sizeof path, "%s/bundle-%d.stack", tl_tmpdir(), k++);
        if (tl_write_bundle(path, c, e, n) < 0)
                return error_set(err, STACK_EFAIL, "tl_ingest: cannot write %s", path);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return error_errno(err, STACK_EFAIL, errno, "tl_ingest: cannot open %s", path);
        r = ingest_new(s, limits, &ing, err);
        if (r == 0)
                r = ingest_read_fd(ing, fd, err);
        close(fd);
        if (r < 0) {
                ingest_free(ing);
                return r;
        }
        *ret = ing;
        return 0;
}

int tl_import(struct store *s, enum tl_compression c, const struct tl_entry *e, size_t n,
              const struct ingest_limits *limits, struct tl_imported *ret, struct error *err)
{
        struct ingest *ing = NULL;
        struct publish_info pi = {0};
        struct tl_imported got = {0};
        int r = tl_ingest(s, c, e, n, limits, &ing, err);

        if (r < 0)
                return r;
        pi.bundle = ingest_bundle_digest(ing);
        pi.bundle_size = ingest_bundle_size(ing);
        got.tree = *ingest_tree_digest(ing);
        got.bundle = *ingest_bundle_digest(ing);
        r = ingest_publish(ing, &pi, &got.id, &got.is_new, err);
        if (r == 0 && ret)
                *ret = got;
        ingest_free(ing);
        return r;
}
int tl_import_version(struct store *s, const char *slug, const char *version, const char *marker,
                      struct tl_imported *ret, struct error *err)
{
        struct tl_entry e[3];

        tl_valid_entries(e, slug, version);
        e[2] = (struct tl_entry){.path = "marker.txt", .type = 'f', .data = marker, .len = strlen(marker)};
        return tl_import(s, TL_ZSTD, e, 3, NULL, ret, err);
}

int tl_count_dir(const char *dir)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

int tl_sql(const char *home, const char *sql)
{
        char path[PATH_MAX], *msg = NULL;
        sqlite3 *db = NULL;
        int r = -1;

        snprintf(path, sizeof path, "%s/index.db", home);
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
                fprintf(stderr, "tl_sql: cannot open %s\n", path);
        else if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
                fprintf(stderr, "tl_sql: %s: %s\n", sql, msg ? msg : "error");
        else
                r = 0;
        sqlite3_free(msg);
        sqlite3_close(db);
        return r;
}
