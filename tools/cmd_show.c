/* Subcommands that only look: ls, info, watch. All of them read the pool
 * through mmpool_inspect(), which attaches to nothing. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "platform.h"

/* ---- ls ---- */

static void ls_json(const cli_pool *pools, size_t n) {
    printf("[");
    for (size_t i = 0; i < n; i++) {
        const cli_pool *p = &pools[i];
        printf("%s\n  {\"name\": ", i == 0 ? "" : ",");
        cli_json_string(stdout, p->name);
        printf(", \"path\": ");
        cli_json_string(stdout, p->path);
        printf(", \"slot_count\": %" PRIu32 ", \"slot_capacity\": %" PRIu64 ", \"format\": ",
               p->info.slot_count, p->info.slot_capacity);
        cli_json_string(stdout, p->info.format);
        printf(", \"last_seq\": %" PRIu64
               ", \"live_processes\": %u, \"live_handles\": %u, \"retired\": %s}",
               p->info.last_seq, cli_live_processes(p->handles, MMPOOL_MAX_HANDLES),
               cli_live_handles(p->handles, MMPOOL_MAX_HANDLES),
               p->info.retired ? "true" : "false");
    }
    printf("%s]\n", n == 0 ? "" : "\n");
}

/* Columns a string takes on a terminal: one per UTF-8 character. cli_text()
 * output is valid UTF-8 without control characters; wide (CJK) characters
 * are counted as one and may still shift a line. */
static size_t columns(const char *s) {
    size_t n = 0;
    for (; *s != '\0'; s++) {
        n += ((unsigned char)*s & 0xc0) != 0x80;
    }
    return n;
}

static size_t max_size(size_t a, size_t b) {
    return a > b ? a : b;
}

/* Decimal digits of v. */
static size_t digits_of(uint64_t v) {
    size_t n = 1;
    for (; v >= 10; v /= 10) {
        n++;
    }
    return n;
}

/* s, then spaces up to width columns. */
static void print_padded(const char *s, size_t width) {
    size_t used = columns(s);
    fputs(s, stdout);
    for (; used < width; used++) {
        putchar(' ');
    }
}

/* The widths of ls's columns: each the widest of its heading and its
 * values, so that every column lines up whatever the names and numbers. */
typedef struct ls_widths {
    size_t name, slots, capacity, seq, procs;
} ls_widths;

static const char *ls_name(char *out, size_t cap, const cli_pool *p, int bare) {
    return cli_text(out, cap, bare ? p->name : p->path);
}

static void ls_text(const cli_pool *pools, size_t n, int bare) {
    if (n == 0) {
        return;
    }
    /* Names come from the directory and formats from the files: both are
     * made safe for the terminal before they are measured or printed. */
    char name[4 * 4096];
    char format[4 * MMPOOL_FORMAT_MAX + 1];
    ls_widths w = {4, 5, 8, 3, 5}; /* the headings' own widths */
    for (size_t i = 0; i < n; i++) {
        const cli_pool *p = &pools[i];
        w.name = max_size(w.name, columns(ls_name(name, sizeof name, p, bare)));
        w.slots = max_size(w.slots, digits_of(p->info.slot_count));
        w.capacity = max_size(w.capacity, digits_of(p->info.slot_capacity));
        w.seq = max_size(w.seq, digits_of(p->info.last_seq));
        w.procs = max_size(w.procs, digits_of(cli_live_processes(p->handles, MMPOOL_MAX_HANDLES)));
    }
    /* Text on the left, numbers on the right of their columns. */
    print_padded("NAME", w.name);
    printf("  %*s x %*s  %*s  %*s  FORMAT\n", (int)w.slots, "SLOTS", (int)w.capacity, "CAPACITY",
           (int)w.seq, "SEQ", (int)w.procs, "PROCS");
    for (size_t i = 0; i < n; i++) {
        const cli_pool *p = &pools[i];
        print_padded(ls_name(name, sizeof name, p, bare), w.name);
        printf("  %*" PRIu32 " x %*" PRIu64 "  %*" PRIu64 "  %*u  %s%s\n", (int)w.slots,
               p->info.slot_count, (int)w.capacity, p->info.slot_capacity, (int)w.seq,
               p->info.last_seq, (int)w.procs, cli_live_processes(p->handles, MMPOOL_MAX_HANDLES),
               p->info.format[0] != '\0' ? cli_text(format, sizeof format, p->info.format) : "-",
               p->info.retired ? " (retired)" : "");
    }
}

int cmd_ls(int argc, char **argv) {
    cli_opt opts[] = {{"--json", 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("ls", argc, argv, opts, 1, pos, 0, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    char dir[4096];
    if (npos == 1) {
        snprintf(dir, sizeof dir, "%s", pos[0]);
    } else if ((rc = cli_default_dir(dir, sizeof dir)) != CLI_OK) {
        return rc;
    }
    cli_pool *pools;
    size_t n;
    rc = cli_find_pools(dir, &pools, &n);
    if (rc != CLI_OK) {
        return rc;
    }
    if (opts[0].value != NULL) {
        ls_json(pools, n);
    } else {
        /* Pools in the default directory are shown by the bare name that
         * the other commands accept. */
        ls_text(pools, n, npos == 0);
    }
    cli_free_pools(pools, n);
    return CLI_OK;
}

/* ---- info ---- */

typedef struct snapshot {
    mmpool_info info;
    mmpool_slot_info slots[MMPOOL_MAX_SLOTS];
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    uint64_t now_ns; /* mmpool_now_ns() when taken */
} snapshot;

static const char *slot_state_name(uint32_t state) {
    switch (state) {
    case MMPOOL_SLOT_EMPTY:
        return "empty";
    case MMPOOL_SLOT_COMMITTED:
        return "committed";
    case MMPOOL_SLOT_WRITING:
        return "writing";
    default:
        return "damaged";
    }
}

static double age_s(const snapshot *s, uint64_t t) {
    return t <= s->now_ns ? (double)(s->now_ns - t) / 1e9 : 0.0;
}

/* "pid 1234 (alive)" for entry index. */
static void holder_text(const snapshot *s, uint32_t index) {
    const mmpool_handle_info *h = &s->handles[index];
    printf("pid %" PRIu64 " (%s)", h->pid, h->alive ? "alive" : "dead");
}

static void holder_json(const snapshot *s, uint32_t index) {
    const mmpool_handle_info *h = &s->handles[index];
    printf("{\"entry\": %" PRIu32 ", \"pid\": %" PRIu64 ", \"alive\": %s}", index, h->pid,
           h->alive ? "true" : "false");
}

static void roles_text(uint32_t role, char *out, size_t cap) {
    snprintf(out, cap, "%s%s%s%s", (role & MMPOOL_ROLE_READ) ? "reader " : "",
             (role & MMPOOL_ROLE_WRITE) ? "writer " : "", (role & MMPOOL_ROLE_FIFO) ? "fifo " : "",
             role == 0 ? "idle " : "");
    out[strlen(out) - 1] = '\0';
}

static void info_text(const char *path, const snapshot *s) {
    const mmpool_info *in = &s->info;
    char when[64];
    char text[4 * 4096];
    cli_format_utc(when, sizeof when, in->created_ns);
    printf("pool         %s\n", cli_text(text, sizeof text, path));
    printf("version      %" PRIu32 ".%" PRIu32 "\n", in->version_major, in->version_minor);
    printf("geometry     %" PRIu32 " slots x %" PRIu64 " bytes (stride %" PRIu64 ", file %" PRIu64
           " bytes)\n",
           in->slot_count, in->slot_capacity, in->slot_stride, in->file_size);
    printf("format       %s\n",
           in->format[0] != '\0' ? cli_text(text, sizeof text, in->format) : "-");
    printf("created      %s\n", when);
    printf("owner        %s\n", cli_owner_text(text, sizeof text, in->owner));
    printf("newest seq   %" PRIu64 "\n", in->last_seq);
    if (in->retired) {
        printf("retired      yes: unlinked, handles on it get MMPOOL_ESTALE\n");
    }
    printf("commit lock  ");
    if (in->commit_lock == 0 || in->commit_lock > MMPOOL_MAX_HANDLES) {
        printf(in->commit_lock == 0 ? "free\n" : "damaged (%" PRIu32 ")\n", in->commit_lock);
    } else {
        printf("held by ");
        holder_text(s, in->commit_lock - 1);
        printf("\n");
    }
    printf("slots\n");
    for (uint32_t i = 0; i < in->slot_count; i++) {
        const mmpool_slot_info *sl = &s->slots[i];
        printf("  %4" PRIu32 "  ", i);
        switch (sl->state) {
        case MMPOOL_SLOT_EMPTY:
            printf("empty");
            break;
        case MMPOOL_SLOT_COMMITTED:
            printf("committed seq %" PRIu64 ", %" PRIu64 " bytes, %.3f s old", sl->seq, sl->len,
                   age_s(s, sl->timestamp_ns));
            break;
        case MMPOOL_SLOT_WRITING:
            printf("being written by ");
            holder_text(s, sl->writer - 1);
            break;
        default:
            printf("damaged (reading it gives MMPOOL_EFORMAT)");
            break;
        }
        const char *sep = ", pinned by ";
        for (uint32_t e = 0; e < MMPOOL_MAX_HANDLES; e++) {
            if ((sl->pins >> e) & 1u) {
                printf("%s", sep);
                holder_text(s, e);
                sep = ", ";
            }
        }
        printf("\n");
    }
    printf("handles\n");
    unsigned shown = 0;
    for (uint32_t e = 0; e < MMPOOL_MAX_HANDLES; e++) {
        const mmpool_handle_info *h = &s->handles[e];
        if (!h->in_use && !h->alive) {
            continue;
        }
        char roles[64];
        roles_text(h->role, roles, sizeof roles);
        cli_format_utc(when, sizeof when, h->open_ns);
        printf("  %4" PRIu32 "  pid %" PRIu64 " (%s), %s, attached %s\n", e, h->pid,
               h->alive ? "alive" : "dead", roles, when);
        shown++;
    }
    if (shown == 0) {
        printf("  none\n");
    }
}

static void info_json(const char *path, const snapshot *s) {
    const mmpool_info *in = &s->info;
    char when[64];
    cli_format_utc(when, sizeof when, in->created_ns);
    printf("{\"path\": ");
    cli_json_string(stdout, path);
    printf(",\n \"version_major\": %" PRIu32 ", \"version_minor\": %" PRIu32
           ", \"slot_count\": %" PRIu32 ", \"slot_capacity\": %" PRIu64
           ", \"slot_stride\": %" PRIu64 ", \"file_size\": %" PRIu64 ",\n \"format\": ",
           in->version_major, in->version_minor, in->slot_count, in->slot_capacity, in->slot_stride,
           in->file_size);
    cli_json_string(stdout, in->format);
    printf(", \"created_ns\": %" PRIu64 ", \"created\": \"%s\", \"owner\": %" PRIu64
           ", \"last_seq\": %" PRIu64 ", \"retired\": %s,\n \"commit_lock\": ",
           in->created_ns, when, in->owner, in->last_seq, in->retired ? "true" : "false");
    if (in->commit_lock == 0 || in->commit_lock > MMPOOL_MAX_HANDLES) {
        printf("null");
    } else {
        holder_json(s, in->commit_lock - 1);
    }
    printf(",\n \"slots\": [");
    for (uint32_t i = 0; i < in->slot_count; i++) {
        const mmpool_slot_info *sl = &s->slots[i];
        printf("%s\n  {\"index\": %" PRIu32 ", \"state\": \"%s\"", i == 0 ? "" : ",", i,
               slot_state_name(sl->state));
        if (sl->state == MMPOOL_SLOT_COMMITTED) {
            printf(", \"seq\": %" PRIu64 ", \"len\": %" PRIu64 ", \"timestamp_ns\": %" PRIu64
                   ", \"age_s\": %.6f",
                   sl->seq, sl->len, sl->timestamp_ns, age_s(s, sl->timestamp_ns));
        }
        printf(", \"writer\": ");
        if (sl->state == MMPOOL_SLOT_WRITING) {
            holder_json(s, sl->writer - 1);
        } else {
            printf("null");
        }
        printf(", \"pinned_by\": [");
        const char *sep = "";
        for (uint32_t e = 0; e < MMPOOL_MAX_HANDLES; e++) {
            if ((sl->pins >> e) & 1u) {
                printf("%s", sep);
                holder_json(s, e);
                sep = ", ";
            }
        }
        printf("]}");
    }
    printf("],\n \"handles\": [");
    const char *sep = "";
    for (uint32_t e = 0; e < MMPOOL_MAX_HANDLES; e++) {
        const mmpool_handle_info *h = &s->handles[e];
        if (!h->in_use && !h->alive) {
            continue;
        }
        cli_format_utc(when, sizeof when, h->open_ns);
        printf("%s\n  {\"entry\": %" PRIu32 ", \"pid\": %" PRIu64
               ", \"alive\": %s, \"in_use\": %s, \"proc_start\": %" PRIu64 ", \"open_ns\": %" PRIu64
               ", \"attached\": \"%s\", \"reader\": %s"
               ", \"writer\": %s, \"fifo\": %s}",
               sep, e, h->pid, h->alive ? "true" : "false", h->in_use ? "true" : "false",
               h->proc_start, h->open_ns, when, (h->role & MMPOOL_ROLE_READ) ? "true" : "false",
               (h->role & MMPOOL_ROLE_WRITE) ? "true" : "false",
               (h->role & MMPOOL_ROLE_FIFO) ? "true" : "false");
        sep = ",";
    }
    printf("]}\n");
}

static int take_snapshot(const char *pool, snapshot *s) {
    int rc =
        mmpool_inspect(pool, &s->info, s->slots, MMPOOL_MAX_SLOTS, s->handles, MMPOOL_MAX_HANDLES);
    s->now_ns = mmpool_now_ns();
    return rc;
}

int cmd_info(int argc, char **argv) {
    cli_opt opts[] = {{"--json", 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("info", argc, argv, opts, 1, pos, 1, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    snapshot *s = malloc(sizeof *s);
    if (s == NULL) {
        return cli_error(pos[0], "out of memory");
    }
    char path[4096];
    rc = take_snapshot(pos[0], s);
    if (rc == 0) {
        rc = mmpool_resolve_path(path, sizeof path, pos[0]);
    }
    if (rc != 0) {
        free(s);
        return cli_fail(pos[0], rc);
    }
    if (opts[0].value != NULL) {
        info_json(path, s);
    } else {
        info_text(path, s);
    }
    free(s);
    return CLI_OK;
}

/* ---- watch ---- */

/* The newest committed frame still in the pool: its slot, or -1. */
static int64_t newest_slot(const snapshot *s) {
    int64_t best = -1;
    for (uint32_t i = 0; i < s->info.slot_count; i++) {
        const mmpool_slot_info *sl = &s->slots[i];
        if (sl->state == MMPOOL_SLOT_COMMITTED && (best < 0 || sl->seq > s->slots[best].seq)) {
            best = i;
        }
    }
    return best;
}

/* Mean length of the frames committed after seq that are still in the
 * pool; -1 if none is. Frames already overwritten are assumed to be of
 * the same mean size. */
static double mean_len_after(const snapshot *s, uint64_t seq) {
    double sum = 0;
    unsigned n = 0;
    for (uint32_t i = 0; i < s->info.slot_count; i++) {
        const mmpool_slot_info *sl = &s->slots[i];
        if (sl->state == MMPOOL_SLOT_COMMITTED && sl->seq > seq) {
            sum += (double)sl->len;
            n++;
        }
    }
    return n == 0 ? -1.0 : sum / n;
}

static void watch_line(const snapshot *now, const snapshot *prev) {
    char clock[16];
    time_t t = time(NULL);
    struct tm *tm = localtime(&t);
    if (tm == NULL || strftime(clock, sizeof clock, "%H:%M:%S", tm) == 0) {
        snprintf(clock, sizeof clock, "?");
    }
    printf("%s  seq %" PRIu64, clock, now->info.last_seq);
    if (prev == NULL) {
        printf("  frames/s -  MB/s -");
    } else {
        double dt = (double)(now->now_ns - prev->now_ns) / 1e9;
        /* last_seq only rises, except when the pool was replaced. */
        uint64_t frames = now->info.last_seq >= prev->info.last_seq
                              ? now->info.last_seq - prev->info.last_seq
                              : now->info.last_seq;
        double fps = dt > 0 ? (double)frames / dt : 0.0;
        double mean = mean_len_after(now, prev->info.last_seq);
        printf("  frames/s %.1f  MB/s %.1f", fps, mean > 0 ? fps * mean / 1e6 : 0.0);
    }
    int64_t newest = newest_slot(now);
    if (newest >= 0) {
        printf("  newest %.3f s old", age_s(now, now->slots[newest].timestamp_ns));
    } else {
        printf("  newest -");
    }
    printf("  handles %u%s\n", cli_live_handles(now->handles, MMPOOL_MAX_HANDLES),
           now->info.retired ? "  (retired)" : "");
    fflush(stdout);
}

int cmd_watch(int argc, char **argv) {
    cli_opt opts[] = {{"--count", 1, NULL}, {"--interval", 1, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("watch", argc, argv, opts, 2, pos, 1, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    uint64_t count = 0;
    if (opts[0].value != NULL &&
        (cli_parse_uint(opts[0].value, UINT32_MAX, &count) != 0 || count == 0)) {
        return cli_usage("watch", "--count wants a whole number >= 1, not '%s'", opts[0].value);
    }
    int interval_ms = 1000;
    if (opts[1].value != NULL &&
        (cli_parse_seconds(opts[1].value, &interval_ms) != 0 || interval_ms == 0)) {
        return cli_usage("watch", "--interval wants seconds > 0, not '%s'", opts[1].value);
    }
    snapshot *s = malloc(2 * sizeof *s);
    if (s == NULL) {
        return cli_error(pos[0], "out of memory");
    }
    tool_catch_interrupt();
    rc = CLI_OK;
    for (uint64_t n = 0; count == 0 || n < count; n++) {
        if (n > 0) {
            tool_sleep_ms((unsigned)interval_ms);
        }
        if (tool_interrupted()) {
            break;
        }
        snapshot *now = &s[n % 2];
        int err = take_snapshot(pos[0], now);
        if (err != 0) {
            rc = cli_fail(pos[0], err);
            break;
        }
        if (n == 0) {
            char format[4 * MMPOOL_FORMAT_MAX + 1], name[4 * 4096];
            printf("watching %s: %" PRIu32 " slots x %" PRIu64 " bytes, format %s\n",
                   cli_text(name, sizeof name, pos[0]), now->info.slot_count,
                   now->info.slot_capacity,
                   now->info.format[0] != '\0' ? cli_text(format, sizeof format, now->info.format)
                                               : "-");
        }
        watch_line(now, n > 0 ? &s[(n + 1) % 2] : NULL);
    }
    free(s);
    return rc;
}
