/* Helpers the subcommands share: option parsing, messages, number and size
 * parsing, JSON strings, times, and finding the pools in a directory. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "platform.h"

/* ---- options and messages ---- */

static cli_opt *find_opt(cli_opt *opts, size_t nopts, const char *arg, size_t len) {
    for (size_t i = 0; i < nopts; i++) {
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, arg, len) == 0) {
            return &opts[i];
        }
    }
    return NULL;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, size_t nopts, const char **pos,
              int min_pos, int max_pos, int *npos) {
    int n = 0;
    int options_done = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!options_done && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            cli_help(cmd, stdout);
            return -1;
        }
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = 1;
            continue;
        }
        /* "-" alone is a positional argument (standard input or output). */
        if (!options_done && a[0] == '-' && a[1] != '\0') {
            const char *eq = strchr(a, '=');
            size_t len = eq != NULL ? (size_t)(eq - a) : strlen(a);
            cli_opt *o = find_opt(opts, nopts, a, len);
            if (o == NULL) {
                return cli_usage(cmd, "unknown option '%.*s'", (int)len, a);
            }
            if (!o->takes_value) {
                if (eq != NULL) {
                    return cli_usage(cmd, "option '%s' takes no value", o->name);
                }
                o->value = "";
            } else if (eq != NULL) {
                o->value = eq + 1;
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                return cli_usage(cmd, "option '%s' needs a value", o->name);
            }
            continue;
        }
        if (n == max_pos) {
            return cli_usage(cmd, "unexpected argument '%s'", a);
        }
        pos[n++] = a;
    }
    if (n < min_pos) {
        return cli_usage(cmd, "missing argument");
    }
    *npos = n;
    return CLI_OK;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mmpool%s%s: ", cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'mmpool%s%s --help'.\n", cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
    return CLI_USAGE;
}

int cli_fail(const char *what, int err) {
    fprintf(stderr, "mmpool: %s: %s (%s)\n", what, mmpool_strerror(err), mmpool_err_name(err));
    return CLI_ERROR;
}

/* "3" or, for 0 (take the pool's), "any". */
static void asked_number(char *out, size_t cap, uint64_t v) {
    if (v == 0) {
        snprintf(out, cap, "any");
    } else {
        snprintf(out, cap, "%" PRIu64, v);
    }
}

const char *cli_owner_text(char *out, size_t cap, uint64_t owner) {
    char user[256];
    char shown[4 * sizeof user];
    if (tool_user_name(owner, user, sizeof user) == 0) {
        snprintf(out, cap, "%s %" PRIu64 " (%s)", tool_owner_kind, owner,
                 cli_text(shown, sizeof shown, user));
    } else {
        snprintf(out, cap, "%s %" PRIu64, tool_owner_kind, owner);
    }
    return out;
}

/* The failure of an open that the file's owner may explain: an open
 * refused with MMPOOL_EACCES names who owns the pool, which mmpool_inspect()
 * reads without attaching (the owner rule does not apply to it); when it
 * cannot be inspected either, the plain error is all there is to say. */
static int fail_access(const char *name, int err) {
    mmpool_info info;
    if (mmpool_inspect(name, &info, NULL, 0, NULL, 0) != 0) {
        return cli_fail(name, err);
    }
    char owner[1100];
    fprintf(stderr, "mmpool: %s: %s: owned by %s (%s)\n", name, mmpool_strerror(err),
            cli_owner_text(owner, sizeof owner, info.owner), mmpool_err_name(err));
    return CLI_ERROR;
}

int cli_fail_open(const char *name, int err, const mmpool_options *asked) {
    if (err == MMPOOL_EACCES) {
        return fail_access(name, err);
    }
    mmpool_info info;
    /* Only the slot count and capacity make mmpool_open() refuse a pool
     * (the format is ignored when the pool exists), so these two are what
     * the message compares. The pool is looked at again, after the
     * failure: it may have changed meanwhile, and then the plain error is
     * all there is to say. */
    if ((err != MMPOOL_EMISMATCH && err != MMPOOL_EEXIST) || asked == NULL ||
        mmpool_inspect(name, &info, NULL, 0, NULL, 0) != 0 ||
        ((asked->slot_count == 0 || asked->slot_count == info.slot_count) &&
         (asked->slot_capacity == 0 || asked->slot_capacity == info.slot_capacity))) {
        return cli_fail(name, err);
    }
    char count[24];
    char capacity[24];
    asked_number(count, sizeof count, asked->slot_count);
    asked_number(capacity, sizeof capacity, asked->slot_capacity);
    fprintf(stderr,
            "mmpool: %s: %s: pool has %" PRIu32 " slot%s x %" PRIu64 " B, asked %s x %s B (%s)\n",
            name, mmpool_strerror(err), info.slot_count, info.slot_count == 1 ? "" : "s",
            info.slot_capacity, count, capacity, mmpool_err_name(err));
    return CLI_ERROR;
}

int cli_error(const char *what, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mmpool: %s: ", what);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_ERROR;
}

/* ---- numbers ---- */

/* Reads digits at *s into *v; -1 if there are none or they overflow. */
static int digits(const char **s, uint64_t *v) {
    const char *p = *s;
    uint64_t x = 0;
    if (*p < '0' || *p > '9') {
        return -1;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (x > (UINT64_MAX - d) / 10) {
            return -1;
        }
        x = x * 10 + d;
    }
    *s = p;
    *v = x;
    return 0;
}

int cli_parse_uint(const char *s, uint64_t max, uint64_t *out) {
    uint64_t v;
    if (digits(&s, &v) != 0 || *s != '\0' || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out) {
    uint64_t total = 1;
    for (;;) {
        uint64_t v;
        if (digits(&s, &v) != 0) {
            return -1;
        }
        unsigned shift = 0;
        switch (*s) {
        case 'K':
        case 'k':
            shift = 10;
            break;
        case 'M':
        case 'm':
            shift = 20;
            break;
        case 'G':
        case 'g':
            shift = 30;
            break;
        default:
            break;
        }
        if (shift != 0) {
            s++;
            if (v > (UINT64_MAX >> shift)) {
                return -1;
            }
            v <<= shift;
        }
        if (v != 0 && total > UINT64_MAX / v) {
            return -1;
        }
        total *= v;
        if (*s == '\0') {
            break;
        }
        if (*s != 'x' && *s != 'X') {
            return -1;
        }
        s++;
    }
    *out = total;
    return 0;
}

int cli_parse_seconds(const char *s, int *ms) {
    uint64_t whole;
    if (digits(&s, &whole) != 0) {
        return -1;
    }
    uint64_t frac = 0; /* milliseconds */
    if (*s == '.') {
        s++;
        uint64_t scale = 100;
        if (*s < '0' || *s > '9') {
            return -1;
        }
        for (; *s >= '0' && *s <= '9'; s++, scale /= 10) {
            frac += (uint64_t)(*s - '0') * scale;
        }
    }
    if (*s != '\0' || whole > INT32_MAX / 1000 - 1) {
        return -1;
    }
    *ms = (int)(whole * 1000 + frac);
    return 0;
}

/* ---- output ---- */

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s) {
    unsigned c = s[0];
    size_t n;
    unsigned min;
    if (c < 0x80) {
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[i] & 0x3f);
    }
    /* Overlong forms, surrogates and code points past U+10FFFF are not
     * valid UTF-8. */
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }
    return n;
}

void cli_json_string(FILE *out, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    fputc('"', out);
    while (*s != '\0') {
        size_t n = utf8_len(s);
        if (n == 0) {
            fputs("\\ufffd", out);
            s++;
        } else if (*s == '"' || *s == '\\') {
            fprintf(out, "\\%c", *s);
            s++;
        } else if (*s < 0x20 || *s == 0x7f) {
            fprintf(out, "\\u%04x", *s);
            s++;
        } else if (n == 2 && s[0] == 0xc2 && s[1] < 0xa0) {
            /* A C1 control (U+0080..U+009F): valid JSON raw, but escaped
             * so that JSON shown on a terminal cannot drive it. */
            fprintf(out, "\\u%04x", s[1]);
            s += 2;
        } else {
            fwrite(s, 1, n, out);
            s += n;
        }
    }
    fputc('"', out);
}

const char *cli_text(char *out, size_t cap, const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t used = 0;
    while (*s != '\0' && cap > 0) {
        size_t n = utf8_len(s);
        /* C1 controls (U+0080..U+009F) are two bytes, 0xc2 0x80..0x9f. */
        int control = n == 0 || *s < 0x20 || *s == 0x7f || (n == 2 && s[0] == 0xc2 && s[1] < 0xa0);
        size_t step = n == 0 ? 1 : n;
        size_t need = control ? 4 * step : step;
        if (used + need >= cap) {
            break;
        }
        for (size_t i = 0; i < step; i++) {
            if (control) {
                snprintf(out + used, cap - used, "\\x%02x", s[i]);
                used += 4;
            } else {
                out[used++] = (char)s[i];
            }
        }
        s += step;
    }
    if (cap > 0) {
        out[used] = '\0';
    }
    return out;
}

void cli_format_utc(char *out, size_t cap, uint64_t ns) {
    time_t t = (time_t)(ns / 1000000000u);
    struct tm *tm = gmtime(&t);
    if (tm == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", tm) == 0) {
        snprintf(out, cap, "?");
    }
}

int cli_join(char *out, size_t cap, const char *dir, const char *name) {
    size_t len = strlen(dir);
    int sep = len > 0 && dir[len - 1] != '/' && dir[len - 1] != '\\';
    int n = snprintf(out, cap, "%s%s%s", dir, sep ? "/" : "", name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int cli_default_dir(char *out, size_t cap) {
    int rc = mmpool_default_dir(out, cap);
    return rc == 0 ? 0 : cli_fail("the directory of bare pool names", rc);
}

/* ---- pools in a directory ---- */

static int by_name(const void *a, const void *b) {
    return strcmp(((const cli_pool *)a)->name, ((const cli_pool *)b)->name);
}

static char *dup_string(const char *s) {
    char *d = malloc(strlen(s) + 1);
    if (d != NULL) {
        strcpy(d, s);
    }
    return d;
}

int cli_find_pools(const char *dir, cli_pool **pools, size_t *count) {
    char **names;
    size_t n;
    char why[256];
    if (tool_list_dir(dir, &names, &n, why, sizeof why) != 0) {
        return cli_error(dir, "cannot list the directory: %s", why);
    }
    cli_pool *list = calloc(n != 0 ? n : 1, sizeof *list);
    size_t found = 0;
    int rc = list == NULL ? cli_error(dir, "out of memory") : CLI_OK;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        cli_pool *p = list != NULL ? &list[found] : NULL;
        /* Joining always adds a separator, so the library never takes the
         * joined path for a bare name. */
        if (rc == CLI_OK && cli_join(path, sizeof path, dir, names[i]) == 0 &&
            mmpool_inspect(path, &p->info, NULL, 0, p->handles, MMPOOL_MAX_HANDLES) == 0) {
            p->name = dup_string(names[i]);
            p->path = dup_string(path);
            if (p->name == NULL || p->path == NULL) {
                free(p->name);
                free(p->path);
                rc = cli_error(dir, "out of memory");
            } else {
                found++;
            }
        }
        free(names[i]);
    }
    free(names);
    if (rc != CLI_OK) {
        cli_free_pools(list, found);
        return rc;
    }
    qsort(list, found, sizeof *list, by_name);
    *pools = list;
    *count = found;
    return CLI_OK;
}

void cli_free_pools(cli_pool *pools, size_t count) {
    for (size_t i = 0; i < count; i++) {
        free(pools[i].name);
        free(pools[i].path);
    }
    free(pools);
}

unsigned cli_live_handles(const mmpool_handle_info *h, size_t n) {
    unsigned live = 0;
    for (size_t i = 0; i < n; i++) {
        live += h[i].alive != 0;
    }
    return live;
}

unsigned cli_live_processes(const mmpool_handle_info *h, size_t n) {
    unsigned procs = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) {
            seen = h[j].alive && h[j].pid == h[i].pid;
        }
        procs += h[i].alive && !seen;
    }
    return procs;
}
