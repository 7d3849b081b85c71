/* test_import_i11.c - the importer's defects of issue 11, one case per item, named
 * i11_<item>_<what> (grep for them): basket-lines ids and grown files (5), event
 * weights and quantities (6), timestamps (8), the summary and the category tree (10),
 * streamed input (13), the Complete Journey R export and basket files (18).  Messages
 * (15) and the '|' delimiter (17) are in test_import_cli.sh and test_csv.c. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "import.h"
#include "sha256.h"
#include "store.h"
#include "testlib.h"
#include "test_import_util.h"
#include "timeutil.h"

/* The message of a failed import contains every one of the NULL-terminated parts. */
static void check_msg(const char *what, const rs_error *e, const char *const *parts, int line)
{
    for (; *parts; parts++)
        if (!strstr(e->msg, *parts)) {
            test_fail_at(__FILE__, line, "%s: message '%s' lacks '%s'", what, e->msg, *parts);
            return;
        }
    test_passed++;
}
#define MSG_HAS(what, e, ...) check_msg(what, e, (const char *const[]){__VA_ARGS__, NULL}, __LINE__)

/* Imports products (may be NULL) and one receipt file of the canonical layout (or of
 * preset) into a fresh database; returns rc, e gets the message. */
static int import_one(const char *dir, const char *dbname, const char *preset,
                      const char *products, const char *receipts, rs_import_opts *tune,
                      rs_import_report *rep, rs_error *e)
{
    rs_import_opts o;
    if (tune)
        o = *tune;
    else
        rs_import_opts_init(&o);
    const char *in[] = {receipts};
    o.preset = preset;
    o.products = products;
    o.inputs = in;
    o.ninputs = receipts ? 1 : 0;
    rs_store *s = preset_db(dir, dbname);
    int rc = run(s, &o, rep, e);
    rs_store_close(s);
    return rc;
}

/* A receipt file of the header and one data line (after a good one) against the
 * catalogue pp: the import fails with RS_EDATA at file:3:<col> (or :2: without the good
 * line) naming what. */
static void expect_bad_line(const char *dir, const char *pp, const char *header,
                            const char *line, const char *where, const char *what, int at)
{
    char text[300];
    snprintf(text, sizeof text, "%s\n%s\n", header, line);
    char *rf = wr(dir, "i11_bad.csv", text);
    rs_error e = {0};
    if (import_one(dir, "i11_bad", NULL, pp, rf, NULL, NULL, &e) != RS_EDATA)
        test_fail_at(__FILE__, at, "%s: not refused (%s)", line, e.msg);
    check_msg(line, &e, (const char *const[]){where, what, NULL}, at);
    free(rf);
}

/* ---- item 5 ------------------------------------------------------------------------ */

/* Runs a basket-lines import of the given files into s; returns the import's rc. */
static int import_baskets(rs_store *s, const char *const *files, int n, rs_import_report *rep,
                          rs_error *e)
{
    rs_import_opts o;
    rs_import_opts_init(&o);
    o.preset = "basket-lines";
    o.inputs = files;
    o.ninputs = n;
    return run(s, &o, rep, e);
}

static double basket_qty(rs_store *s, const char *hex, int line, const char *item)
{
    char sql[500];
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(quantity), 0) FROM receipt_items ri JOIN"
             " receipts r ON r.id = receipt_id JOIN products p ON p.id = product_id"
             " WHERE r.ext_id = '%.16s:%d' AND p.ext_id = '%s'", hex, line, item);
    return qd(s, sql);
}

/* Issue 11 item 5: basket-lines receipt ids cannot collide (two files of one name in two
 * folders stay apart), are documented (<16 hex of the first version's SHA-256>:<line>),
 * and a grown file imported again adds only its new lines (no doubled quantities); a
 * file that continues the last line of an earlier version without a final newline is
 * refused with file:line:column. */
static void i11_05_basket_lines_ids(const char *dir)
{
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/shopA", dir);
    snprintf(b, sizeof b, "%s/shopB", dir);
    mkdir(a, 0777);
    mkdir(b, 0777);
    char *fa = wr(a, "baskets.csv", "milk,bread\nmilk\n");
    char *fb = wr(b, "baskets.csv", "beer,chips\nbeer,nuts\n");
    rs_store *s = preset_db(dir, "i11_05");
    const char *both[] = {fa, fb};
    rs_import_report rep;
    CHECK_EQ_INT(import_baskets(s, both, 2, &rep, NULL), RS_OK);
    rs_import_report_free(&rep);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipts"), 4); /* not merged by name:line */
    char ha[65], hb[65];
    file_hash(fa, ha);
    file_hash(fb, hb);
    CHECK_NEAR(basket_qty(s, ha, 1, "bread"), 1.0, 1e-9);
    CHECK_NEAR(basket_qty(s, hb, 1, "chips"), 1.0, 1e-9);
    CHECK_NEAR(basket_qty(s, hb, 1, "bread"), 0.0, 1e-9);

    /* the file grows (twice): only the new lines are added, with ids that continue */
    free(wr(a, "baskets.csv", "milk,bread\nmilk\nmilk,eggs\n"));
    const char *one[] = {fa};
    CHECK_EQ_INT(import_baskets(s, one, 1, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.nfiles, 1);
    CHECK_EQ_INT(rep.files[0].from_line, 3);
    CHECK(rep.files[0].grows && strcmp(rep.files[0].grows, fa) == 0);
    CHECK_EQ_INT(rep.files[0].rows, 1);
    CHECK_EQ_INT(rep.receipts_added, 1);
    CHECK_EQ_INT(rep.lines, 2);
    rs_import_report_free(&rep);
    free(wr(a, "baskets.csv", "milk,bread\nmilk\nmilk,eggs\nbread\n"));
    CHECK_EQ_INT(import_baskets(s, one, 1, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.files[0].from_line, 4);
    rs_import_report_free(&rep);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipts"), 6);
    CHECK_NEAR(basket_qty(s, ha, 1, "milk"), 1.0, 1e-9); /* not doubled */
    CHECK_NEAR(basket_qty(s, ha, 3, "eggs"), 1.0, 1e-9); /* the first version's tag */
    CHECK_NEAR(basket_qty(s, ha, 4, "bread"), 1.0, 1e-9);
    /* the same content again: skipped */
    CHECK_EQ_INT(import_baskets(s, one, 1, &rep, NULL), RS_OK);
    CHECK(rep.files[0].already);
    rs_import_report_free(&rep);

    /* without a final newline: continuing the last line is refused, a new line is not */
    char c[600];
    snprintf(c, sizeof c, "%s/shopC", dir);
    mkdir(c, 0777);
    char *fc = wr(c, "b.csv", "tea,milk\ntea");
    const char *cc[] = {fc};
    CHECK_EQ_INT(import_baskets(s, cc, 1, NULL, NULL), RS_OK);
    char hc[65];
    file_hash(fc, hc);
    free(wr(c, "b.csv", "tea,milk\ntea,sugar\n"));
    rs_error e = {0};
    int64_t before = q1(s, "SELECT count(*) FROM receipt_items");
    CHECK_EQ_INT(import_baskets(s, cc, 1, NULL, &e), RS_EDATA);
    CHECK(strstr(e.msg, ":2:4: ") && strstr(e.msg, "continues its last line"));
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipt_items"), before);
    free(wr(c, "b.csv", "tea,milk\ntea\nsugar\n"));
    CHECK_EQ_INT(import_baskets(s, cc, 1, NULL, NULL), RS_OK);
    CHECK_NEAR(basket_qty(s, hc, 2, "tea"), 1.0, 1e-9);
    CHECK_NEAR(basket_qty(s, hc, 3, "sugar"), 1.0, 1e-9);
    rs_store_close(s);
    free(fa);
    free(fb);
    free(fc);

    /* a file cut into many chunks: line numbers (and so ids) count from the file's
     * start, not the chunk's (before, every chunk restarted at :1 and merged baskets) */
    char big[8000];
    size_t k = 0;
    for (int i = 0; i < 300; i++)
        k += (size_t)snprintf(big + k, sizeof big - k, "item%d,item%d\n", i % 17, i % 5 + 20);
    char *fm = wr(dir, "many.csv", big);
    rs_import_opts o;
    rs_import_opts_init(&o);
    const char *inm[] = {fm};
    o.preset = "basket-lines";
    o.inputs = inm;
    o.ninputs = 1;
    o.chunk_bytes = 256;
    o.threads = 3;
    s = preset_db(dir, "i11_05_chunks");
    CHECK_EQ_INT(run(s, &o, NULL, NULL), RS_OK);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipts"), 300);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipt_items"), 600);
    CHECK_EQ_INT(q1(s, "SELECT max(quantity) FROM receipt_items"), 1);
    rs_store_close(s);
    free(fm);
}

/* Issue 11 item 5, the class: any receipt file that grows (canonical here) adds only its
 * new lines when imported again, so quantities of earlier receipts are not doubled. */
static void i11_05_grown_receipts(const char *dir)
{
    char *pp = wr(dir, "i11_05_products.csv", "product_id,name,category\np1,Milk,dairy\n"
                                              "p2,Bread,bakery\n");
    char *rf = wr(dir, "i11_05_receipts.csv", "receipt_id,product_id,quantity\nr1,p1,2\n");
    rs_import_opts o;
    rs_import_opts_init(&o);
    const char *in[] = {rf};
    o.products = pp;
    o.inputs = in;
    o.ninputs = 1;
    rs_store *s = preset_db(dir, "i11_05_grown");
    CHECK_EQ_INT(run(s, &o, NULL, NULL), RS_OK);
    free(wr(dir, "i11_05_receipts.csv", "receipt_id,product_id,quantity\nr1,p1,2\nr1,p2,1\n"
                                        "r2,p1,1\n"));
    rs_import_report rep;
    CHECK_EQ_INT(run(s, &o, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.files[rep.nfiles - 1].from_line, 3);
    rs_import_report_free(&rep);
    CHECK_NEAR(qd(s, "SELECT quantity FROM receipt_items ri JOIN receipts r ON r.id = receipt_id"
                     " JOIN products p ON p.id = product_id WHERE r.ext_id = 'r1'"
                     " AND p.ext_id = 'p1'"), 2.0, 1e-9);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipt_items"), 3);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipts"), 2);
    rs_store_close(s);
    free(pp);
    free(rf);
}


/* ---- item 6 ------------------------------------------------------------------------ */

/* Event weights are finite numbers from 0.001 to 1000 (usage errors naming the option
 * and the token); quantities are finite numbers within +-1e9 (data errors with
 * file:line:column). */
static void i11_06_event_weights(const char *dir)
{
    char *ev = wr(dir, "i11_06_events.csv", "timestamp,visitorid,event,itemid\n"
                                             "1433221332,1,view,10\n1433221340,1,addtocart,10\n");
    static const char *const BAD[] = {"view=1e38", "view=inf", "view=nan", "view=0",
                                      "view=-1", "view=0.0001", "view=1,view=2", "view=",
                                      "=1", "view=3x", "view=1e400", NULL};
    for (const char *const *b = BAD; *b; b++) {
        rs_import_opts o;
        rs_import_opts_init(&o);
        o.event_weights = *b;
        rs_error e = {0};
        CHECK_EQ_INT(import_one(dir, "i11_06", "events", NULL, ev, &o, NULL, &e), RS_EUSAGE);
        MSG_HAS(*b, &e, "--event-weights");
    }
    rs_import_opts o;
    rs_import_opts_init(&o);
    o.event_weights = "view=1000,addtocart=0.001";
    rs_import_report rep;
    CHECK_EQ_INT(import_one(dir, "i11_06b", "events", NULL, ev, &o, &rep, NULL), RS_OK);
    rs_import_report_free(&rep);

    char *pp = wr(dir, "i11_06_products.csv", "product_id,name,category\np1,Milk,dairy\n");
    static const struct {
        const char *qty, *what;
    } Q[] = {{"1e300", "quantity '1e300' out of range (-1e+09 to 1e+09)"},
             {"-2e9", "quantity '-2e9' out of range"},
             {"inf", "non-numeric quantity 'inf'"},
             {"nan", "non-numeric quantity 'nan'"}};
    for (size_t i = 0; i < sizeof Q / sizeof *Q; i++) {
        char line[100];
        snprintf(line, sizeof line, "r2,p1,%s", Q[i].qty);
        expect_bad_line(dir, pp, "receipt_id,product_id,quantity", line, "i11_bad.csv:2:7: ",
                        Q[i].what, __LINE__);
    }
    free(pp);
    free(ev);
}

/* ---- item 8 ------------------------------------------------------------------------ */

/* Invalid dates, overflow and the old milliseconds guess are refused with
 * file:line:column and a reason; the other unit is suggested when it would fit. */
static void i11_08_timestamps_import(const char *dir)
{
    char *pp = wr(dir, "i11_08_products.csv", "product_id,name,category\np1,Milk,dairy\n");
    static const struct {
        const char *ts, *what;
    } T[] = {
        {"2025-02-30", "invalid timestamp '2025-02-30': no such day in that month"},
        {"200000000000", "read as milliseconds it is 1976-05-03 19:33:20 UTC: use --time-unit ms"},
        {"1433221332117", "read as milliseconds it is 2015-06-02 05:02:12 UTC"},
        {"99999999999999999999", "out of range"},
        {"2024-01-02 25:00", "no such time of day"},
        {"12/32/2010 8:26", "no such day"},
    };
    for (size_t i = 0; i < sizeof T / sizeof *T; i++) {
        char line[100];
        snprintf(line, sizeof line, "r1,p1,%s", T[i].ts);
        expect_bad_line(dir, pp, "receipt_id,product_id,timestamp", line,
                        "i11_bad.csv:2:7: invalid timestamp", T[i].what, __LINE__);
    }
    /* asked for, milliseconds are read as such */
    char *rf = wr(dir, "i11_08_ms.csv", "receipt_id,product_id,timestamp\nr1,p1,200000000000\n");
    rs_import_opts o;
    rs_import_opts_init(&o);
    o.time_unit = RS_TIME_MILLIS;
    const char *in[] = {rf};
    o.products = pp;
    o.inputs = in;
    o.ninputs = 1;
    rs_store *s = preset_db(dir, "i11_08ms");
    CHECK_EQ_INT(run(s, &o, NULL, NULL), RS_OK);
    CHECK_EQ_INT(q1(s, "SELECT ts FROM receipts"), 200000000);
    rs_store_close(s);
    free(rf);
    free(pp);
}

/* ---- item 10 ----------------------------------------------------------------------- */

/* The summary counts stored lines; a department whose products all lack a category
 * keeps them (its own "(uncategorised)"); one category name under two departments is
 * two categories, reported. */
static void i11_10_summary_categories(const char *dir)
{
    char *pp = wr(dir, "i11_10_products.csv",
                  "product_id,name,category,department\n"
                  "p1,Cat chews,Snacks,Pets\np2,Crisps,Snacks,Grocery\np3,Hammer,,Tools\n"
                  "p4,Saw,,Tools\np5,Thing,,\np6,Kibble,Snacks,Pets\n");
    char *rf = wr(dir, "i11_10_receipts.csv", "receipt_id,product_id\nr1,p1\nr1,p1\nr1,p1\n"
                                              "r1,p2\nr2,p3\nr2,p3\nr3,p5\n");
    rs_import_opts o;
    rs_import_opts_init(&o);
    const char *in[] = {rf};
    o.products = pp;
    o.inputs = in;
    o.ninputs = 1;
    rs_import_report rep;
    rs_store *s = preset_db(dir, "i11_10");
    CHECK_EQ_INT(run(s, &o, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.lines_read, 7);
    CHECK_EQ_INT(rep.lines, 4);
    CHECK_EQ_INT(rep.lines, q1(s, "SELECT count(*) FROM receipt_items"));
    CHECK_EQ_INT(rep.categories_split, 1);
    CHECK_STR(rep.split_example, "'Snacks' under 'Grocery'");
    CHECK_EQ_INT(rep.uncategorised, 3);
    rs_import_report_free(&rep);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE level = 0"), 3); /* Tools stays */
    CHECK_STR(qs(s, "SELECT c.name || '/' || d.name FROM products p JOIN categories c ON"
                    " c.id = p.category_id JOIN categories d ON d.id = c.parent_id"
                    " WHERE p.ext_id = 'p4'"), "(uncategorised)/Tools");
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM categories WHERE name = 'Snacks'"), 2);
    CHECK_STR(qs(s, "SELECT d.name FROM products p JOIN categories c ON c.id = p.category_id"
                    " JOIN categories d ON d.id = c.parent_id WHERE p.ext_id = 'p2'"), "Grocery");
    CHECK_STR(qs(s, "SELECT d.name FROM products p JOIN categories c ON c.id = p.category_id"
                    " JOIN categories d ON d.id = c.parent_id WHERE p.ext_id = 'p6'"), "Pets");
    CHECK_STR(qs(s, "SELECT c.ext_id FROM products p JOIN categories c ON c.id = p.category_id"
                    " WHERE p.ext_id = 'p2'"), "dept:Grocery/Snacks");
    CHECK_STR(qs(s, "SELECT coalesce(c.parent_id, 'none') FROM products p JOIN categories c"
                    " ON c.id = p.category_id WHERE p.ext_id = 'p5'"), "none");
    rs_store_close(s);

    /* events: lines read are events, stored lines are (session, item) pairs */
    char *ev = wr(dir, "i11_10_events.csv", "timestamp,visitorid,event,itemid\n"
                                             "1433221332,1,view,10\n1433221340,1,view,10\n"
                                             "1433221350,1,addtocart,10\n1433221360,1,view,11\n"
                                             "1433221370,1,click,11\n");
    CHECK_EQ_INT(import_one(dir, "i11_10e", "events", NULL, ev, NULL, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.lines_read, 4);
    CHECK_EQ_INT(rep.lines, 2);
    CHECK_EQ_INT(rep.skipped_events, 1);
    rs_import_report_free(&rep);
    free(ev);
    free(pp);
    free(rf);
}

/* ---- item 13 ----------------------------------------------------------------------- */

typedef struct feeder {
    int fd;
    const char *head; /* written first */
    size_t fill;      /* then this many bytes of fill_byte */
    char fill_byte;
    const char *tail; /* then this */
} feeder;

static void *feed(void *arg)
{
    feeder *f = arg;
    char buf[65536];
    memset(buf, f->fill_byte, sizeof buf);
    int ok = write(f->fd, f->head, strlen(f->head)) >= 0;
    for (size_t left = f->fill; ok && left;) {
        size_t k = left < sizeof buf ? left : sizeof buf;
        ok = write(f->fd, buf, k) == (ssize_t)k;
        left -= k;
    }
    if (ok && f->tail)
        ok = write(f->fd, f->tail, strlen(f->tail)) >= 0;
    close(f->fd);
    return NULL;
}

/* Imports the bytes a feeder writes into a pipe (read as /dev/fd/N). */
static int import_pipe(const char *dir, const char *products, feeder *fd, rs_import_report *rep,
                       rs_error *e)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fd->fd = p[1];
    pthread_t th;
    pthread_create(&th, NULL, feed, fd);
    char path[64];
    snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
    int rc = import_one(dir, "i11_13", NULL, products, path, NULL, rep, e);
    close(p[0]); /* a writer still writing gets EPIPE and stops */
    pthread_join(th, NULL);
    return rc;
}

/* Pipes and devices are read as a stream: imported like a file; a NUL byte, a record
 * over 64 MiB stop the reading at once with line:column (no unbounded reading). */
static void i11_13_streamed_input(const char *dir)
{
    signal(SIGPIPE, SIG_IGN);
    char *pp = wr(dir, "i11_13_products.csv", "product_id,name,category\np1,Milk,dairy\n"
                                              "p2,Bread,bakery\n");
    feeder ok = {0, "receipt_id,product_id\nr1,p1\n", 0, 0, "r1,p2\nr2,p2\n"};
    rs_import_report rep;
    CHECK_EQ_INT(import_pipe(dir, pp, &ok, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.receipts_added, 2);
    CHECK_EQ_INT(rep.lines, 3);
    rs_import_report_free(&rep);

    rs_error e = {0};
    feeder nul = {0, "receipt_id,product_id\nr1,p", 1, 0, "x\n"}; /* one NUL as the fill */
    CHECK_EQ_INT(import_pipe(dir, pp, &nul, NULL, &e), RS_EDATA);
    MSG_HAS("pipe NUL", &e, ":2:5: NUL byte");

    /* 80 MiB without a newline: stopped after 64 MiB */
    feeder big = {0, "receipt_id,product_id\n", (size_t)80 << 20, 'a', NULL};
    CHECK_EQ_INT(import_pipe(dir, pp, &big, NULL, &e), RS_EDATA);
    MSG_HAS("pipe long record", &e, ":2:1: record longer than 64 MiB");

    /* an endless device: the NUL at 1:1 */
    CHECK_EQ_INT(import_one(dir, "i11_13z", NULL, pp, "/dev/zero", NULL, NULL, &e), RS_EDATA);
    MSG_HAS("/dev/zero", &e, "/dev/zero:1:1: NUL byte");
    /* a NUL in a regular file, quoted or not */
    char *rf = wr(dir, "i11_13_nul.csv", "receipt_id,product_id\nr1,p1\n");
    FILE *f = fopen(rf, "ab");
    fwrite("r2,\"p\0\"\n", 1, 8, f);
    fclose(f);
    CHECK_EQ_INT(import_one(dir, "i11_13n", NULL, pp, rf, NULL, NULL, &e), RS_EDATA);
    MSG_HAS("file NUL", &e, "i11_13_nul.csv:3:6: NUL byte");
    free(rf);
    free(pp);
}

/* ---- item 18 ----------------------------------------------------------------------- */

/* The Complete Journey R export: float timestamps read, products missing from its own
 * catalogue skipped and reported (an error when asked); a basket file without the
 * preset gets a hint; with the preset a header line is not imported as products. */
static void i11_18_completejourney_r(const char *dir)
{
    char sub[600];
    snprintf(sub, sizeof sub, "%s/cj_r", dir);
    mkdir(sub, 0777);
    free(wr(sub, "products.csv", "product_id,manufacturer_id,department,brand,product_category,"
                                 "product_type,package_size\n"
                                 "25671,2,GROCERY,National,FRZN ICE,ICE - CRUSHED/CUBED,22 LB\n"));
    free(wr(sub, "transactions.csv",
            "household_id,store_id,basket_id,product_id,quantity,sales_value,retail_disc,"
            "coupon_disc,coupon_match_disc,week,transaction_timestamp\n"
            "900,330,31198570044,25671,1,0.5,0,0,0,1,1485630413.0\n"
            "900,330,31198570044,99999,1,0.99,0,0,0,1,1485630413.0\n"));
    rs_import_opts o;
    rs_import_opts_init(&o);
    const char *in[] = {sub};
    o.preset = "completejourney";
    o.inputs = in;
    o.ninputs = 1;
    rs_import_report rep;
    rs_store *s = preset_db(dir, "i11_18");
    CHECK_EQ_INT(run(s, &o, &rep, NULL), RS_OK);
    CHECK_EQ_INT(rep.skipped_unknown, 1);
    CHECK_STR(rep.unknown_example, "99999");
    rs_import_report_free(&rep);
    CHECK_EQ_INT(q1(s, "SELECT ts FROM receipts"), 1485630413);
    CHECK_EQ_INT(q1(s, "SELECT count(*) FROM receipt_items"), 1);
    rs_store_close(s);
    o.skip_unknown = 0;
    rs_error e = {0};
    s = preset_db(dir, "i11_18b");
    CHECK_EQ_INT(run(s, &o, NULL, &e), RS_EDATA);
    MSG_HAS("cj unknown", &e, "transactions.csv:3:21: unknown product '99999'");
    rs_store_close(s);

    /* a basket file without the preset: the hint */
    char *bf = wr(dir, "i11_18_groceries.csv", "citrus fruit,semi-finished bread,margarine\n"
                                               "whole milk,citrus fruit\nyogurt,whole milk\n");
    CHECK_EQ_INT(import_one(dir, "i11_18c", NULL, NULL, bf, NULL, NULL, &e), RS_EDATA);
    MSG_HAS("basket hint", &e, "missing required column 'receipt_id'", "--preset basket-lines");
    /* with the preset: not a header (its items occur again) */
    CHECK_EQ_INT(import_one(dir, "i11_18d", "basket-lines", NULL, bf, NULL, &rep, NULL), RS_OK);
    CHECK(!rep.files[0].header_skipped);
    CHECK_EQ_INT(rep.receipts_added, 3);
    rs_import_report_free(&rep);
    /* a header line: skipped, reported; --no-header imports it */
    char *hf = wr(dir, "i11_18_header.csv", "Item 1,Item 2,Item 3\ncitrus fruit,whole milk\n"
                                            "whole milk\nyogurt,whole milk,tea\n");
    CHECK_EQ_INT(import_one(dir, "i11_18e", "basket-lines", NULL, hf, NULL, &rep, NULL), RS_OK);
    CHECK(rep.files[0].header_skipped);
    CHECK_EQ_INT(rep.receipts_added, 3);
    CHECK_EQ_INT(rep.products_added, 4);
    rs_import_report_free(&rep);
    rs_import_opts_init(&o);
    o.header = 0;
    CHECK_EQ_INT(import_one(dir, "i11_18f", "basket-lines", NULL, hf, &o, &rep, NULL), RS_OK);
    CHECK(!rep.files[0].header_skipped);
    CHECK_EQ_INT(rep.products_added, 7);
    rs_import_report_free(&rep);
    free(bf);
    free(hf);
}

int main(void)
{
    const char *dir = test_tmpdir();
    char d[512];
    snprintf(d, sizeof d, "%s", dir);
    i11_05_basket_lines_ids(d);
    i11_05_grown_receipts(d);
    i11_06_event_weights(d);
    i11_08_timestamps_import(d);
    i11_10_summary_categories(d);
    i11_13_streamed_input(d);
    i11_18_completejourney_r(d);
    return test_summary();
}
