/* test_atomicfile.c - core/atomicfile.h: whole-or-nothing writes, exclusive temporary
 * files, and targets that are not regular files refused (issue 11, item 4). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "atomicfile.h"
#include "testlib.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int write_text(const char *path, const char *text, rs_error *e)
{
    rs_afile *f = NULL;
    int rc = rs_afile_open(path, &f, e);
    if (rc)
        return rc;
    fputs(text, rs_afile_stream(f));
    return rs_afile_commit(f, e);
}

int main(void)
{
    const char *dir = test_tmpdir();
    char path[512], fifo[512], link[512], victim[512], sub[512];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    snprintf(link, sizeof link, "%s/link", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(sub, sizeof sub, "%s/sub", dir);
    rs_error e = {0};

    /* a new file, then replaced whole */
    CHECK_EQ_INT(write_text(path, "one\n", &e), RS_OK);
    CHECK_EQ_INT(write_text(path, "two\n", &e), RS_OK);
    FILE *r = fopen(path, "r");
    char buf[16] = {0};
    CHECK(r && fgets(buf, sizeof buf, r) && strcmp(buf, "two\n") == 0);
    if (r)
        fclose(r);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0444) != 0); /* not left 0600 */
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary file left */

    /* abort leaves the old file and no temporary */
    rs_afile *f = NULL;
    CHECK_EQ_INT(rs_afile_open(path, &f, &e), RS_OK);
    fputs("half", rs_afile_stream(f));
    rs_afile_abort(f);
    CHECK_EQ_INT(count_entries(dir), 1);

    /* FIFO, directory and symbolic link targets are refused, and left as they were */
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK_EQ_INT(write_text(fifo, "x", &e), RS_EUSAGE);
    CHECK(strstr(e.msg, "FIFO") != NULL);
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(mkdir(sub, 0700) == 0);
    CHECK_EQ_INT(write_text(sub, "x", &e), RS_EUSAGE);
    CHECK(write_text(victim, "keep\n", &e) == RS_OK);
    CHECK(symlink(victim, link) == 0);
    CHECK_EQ_INT(write_text(link, "overwritten\n", &e), RS_EUSAGE);
    r = fopen(victim, "r");
    CHECK(r && fgets(buf, sizeof buf, r) && strcmp(buf, "keep\n") == 0);
    if (r)
        fclose(r);
    /* a planted "<path>.tmp" symlink is never followed (the name is random and
     * created with O_EXCL) */
    char planted[600];
    snprintf(planted, sizeof planted, "%s.tmp", path);
    CHECK(symlink(victim, planted) == 0);
    CHECK_EQ_INT(write_text(path, "three\n", &e), RS_OK);
    r = fopen(victim, "r");
    CHECK(r && fgets(buf, sizeof buf, r) && strcmp(buf, "keep\n") == 0);
    if (r)
        fclose(r);
    /* a character device as a target: refused, not replaced.  A private node (as root;
     * skipped otherwise), never the machine's /dev/null, which a regression would
     * replace for everyone. */
    char dev[512];
    snprintf(dev, sizeof dev, "%s/null-device", dir);
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        CHECK_EQ_INT(write_text(dev, "x", &e), RS_EUSAGE);
        CHECK(strstr(e.msg, "device") != NULL);
        CHECK(lstat(dev, &st) == 0 && S_ISCHR(st.st_mode));
    } else {
        printf("no private device node (not root): device target not checked\n");
    }
    return test_summary();
}
