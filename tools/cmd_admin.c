/* Subcommands that change pools as a whole: create, flush, rm, clean. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"
#include "platform.h"

int cmd_create(int argc, char **argv) {
    cli_opt opts[] = {
        {"--capacity", 1, NULL}, {"--slots", 1, NULL}, {"--format", 1, NULL}, {"--mode", 1, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("create", argc, argv, opts, 4, pos, 1, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    mmpool_options o = {.flags = MMPOOL_CREATE | MMPOOL_EXCL, .format = opts[2].value};
    uint64_t v;
    if (opts[0].value == NULL || opts[1].value == NULL) {
        return cli_usage("create", "--capacity and --slots are required");
    }
    if (cli_parse_size(opts[0].value, &o.slot_capacity) != 0 || o.slot_capacity == 0) {
        return cli_usage("create",
                         "--capacity wants a size > 0 such as 6220800, 6M or 1920x1080x3, not "
                         "'%s'",
                         opts[0].value);
    }
    if (cli_parse_uint(opts[1].value, MMPOOL_MAX_SLOTS, &v) != 0 || v == 0) {
        return cli_usage("create", "--slots wants a number from 1 to %d, not '%s'",
                         MMPOOL_MAX_SLOTS, opts[1].value);
    }
    o.slot_count = (uint32_t)v;
    if (o.format != NULL && strlen(o.format) > MMPOOL_FORMAT_MAX) {
        return cli_usage("create", "--format is longer than %d bytes", MMPOOL_FORMAT_MAX);
    }
    if (opts[3].value != NULL) {
        const char *m = opts[3].value;
        uint64_t mode = 0;
        for (; *m >= '0' && *m <= '7' && mode <= 07777; m++) {
            mode = mode * 8 + (uint64_t)(*m - '0');
        }
        if (*m != '\0' || m == opts[3].value || mode > 07777 || mode == 0) {
            return cli_usage("create", "--mode wants octal permission bits such as 0600, not '%s'",
                             opts[3].value);
        }
        o.mode = (uint32_t)mode;
    }
    mmpool *pool;
    int err = mmpool_open(&pool, pos[0], &o);
    if (err != 0) {
        return cli_fail_open(pos[0], err, &o);
    }
    mmpool_close(pool);
    char path[4096];
    if (mmpool_resolve_path(path, sizeof path, pos[0]) != 0) {
        snprintf(path, sizeof path, "%s", pos[0]);
    }
    printf("created %s: %" PRIu32 " slots x %" PRIu64 " bytes\n", path, o.slot_count,
           o.slot_capacity);
    return CLI_OK;
}

int cmd_flush(int argc, char **argv) {
    cli_opt opts[] = {{"--any-owner", 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("flush", argc, argv, opts, 1, pos, 1, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    mmpool_options o = {.flags = opts[0].value != NULL ? (uint32_t)MMPOOL_ANY_OWNER : 0u};
    mmpool *pool;
    int err = mmpool_open(&pool, pos[0], &o);
    if (err != 0) {
        return cli_fail_open(pos[0], err, &o);
    }
    err = mmpool_flush(pool);
    mmpool_close(pool);
    return err == 0 ? CLI_OK : cli_fail(pos[0], err);
}

int cmd_rm(int argc, char **argv) {
    const char *pos[1];
    int npos;
    int rc = cli_parse("rm", argc, argv, NULL, 0, pos, 1, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    int err = mmpool_unlink(pos[0]);
    return err == 0 ? CLI_OK : cli_fail(pos[0], err);
}

/* What keeps a pool from being removed: a live handle on it. A retired pool
 * (its unlinker died before removing the path) is already gone for every
 * handle, so its remaining holders do not keep it. */
static int in_use(const mmpool_info *info, const mmpool_handle_info *handles) {
    return !info->retired && cli_live_handles(handles, MMPOOL_MAX_HANDLES) > 0;
}

/* Looks at the pool once more right before removing it: the directory scan
 * may be long past, and meanwhile a process may have attached, or the pool
 * may have been replaced by a new one (another creation time or geometry),
 * which is not ours to judge from the old look. 1 if it is still the same
 * unused pool. */
static int still_unused(const cli_pool *p, int all_users) {
    mmpool_info now;
    mmpool_handle_info handles[MMPOOL_MAX_HANDLES];
    if (mmpool_inspect(p->path, &now, NULL, 0, handles, MMPOOL_MAX_HANDLES) != 0 ||
        (!all_users && tool_file_owner(p->path) != TOOL_OWNER_CALLER)) {
        return 0;
    }
    return now.created_ns == p->info.created_ns && now.slot_capacity == p->info.slot_capacity &&
           now.slot_count == p->info.slot_count && !in_use(&now, handles);
}

static unsigned dead_holders(const cli_pool *p) {
    unsigned n = 0;
    for (size_t i = 0; i < MMPOOL_MAX_HANDLES; i++) {
        n += p->handles[i].in_use && !p->handles[i].alive;
    }
    return n;
}

int cmd_clean(int argc, char **argv) {
    cli_opt opts[] = {{"--dry-run", 0, NULL}, {"--all-users", 0, NULL}};
    const char *pos[1];
    int npos;
    int rc = cli_parse("clean", argc, argv, opts, 2, pos, 0, 1, &npos);
    if (rc != CLI_OK) {
        return rc;
    }
    int dry = opts[0].value != NULL;
    int all_users = opts[1].value != NULL;
    /* A well-formed command that this user may not run: an error (1), not
     * a usage error (2), like any other lack of permission. Refused before
     * anything is looked at, --dry-run included. */
    if (all_users && !tool_caller_is_admin()) {
        return cli_error("clean",
                         "--all-users is for %s only: other users' pools are theirs to "
                         "remove",
                         tool_admin_name);
    }
    char dir[4096];
    if (npos == 1) {
        snprintf(dir, sizeof dir, "%s", pos[0]);
    } else if ((rc = cli_default_dir(dir, sizeof dir)) != CLI_OK) {
        return rc;
    }
    cli_pool *pools;
    size_t n;
    if ((rc = cli_find_pools(dir, &pools, &n)) != CLI_OK) {
        return rc;
    }
    unsigned removed = 0;
    unsigned foreign = 0; /* unused pools left because another user owns them */
    for (size_t i = 0; i < n; i++) {
        const cli_pool *p = &pools[i];
        if (in_use(&p->info, p->handles)) {
            continue;
        }
        /* Without --all-users only the caller's own pools are candidates:
         * on a shared machine, root's clean must not take other users'
         * pools, nor may a user's clean retire a pool that another user
         * made writable for all. */
        if (!all_users) {
            tool_owner owner = tool_file_owner(p->path);
            if (owner != TOOL_OWNER_CALLER) {
                foreign += owner == TOOL_OWNER_OTHER;
                continue;
            }
        }
        if (!dry && !still_unused(p, all_users)) {
            continue;
        }
        /* A process may still attach between the last look and the
         * removal; it then gets MMPOOL_ESTALE, as with any mmpool_unlink(). */
        int err = dry ? 0 : mmpool_unlink(p->path);
        if (err == MMPOOL_ENOENT) {
            continue; /* someone else removed it meanwhile */
        }
        char path[4 * 4096];
        cli_text(path, sizeof path, p->path);
        if (err != 0) {
            rc = cli_fail(path, err);
            continue;
        }
        unsigned dead = dead_holders(p);
        printf("%s %s (%s", dry ? "would remove" : "removed", path,
               p->info.retired ? "retired" : "no live process");
        if (dead > 0) {
            printf(", %u dead handle%s", dead, dead == 1 ? "" : "s");
        }
        printf(")\n");
        removed++;
    }
    if (removed == 0 && rc == CLI_OK) {
        printf("nothing to remove in %s\n", dir);
    }
    if (foreign > 0) {
        printf("skipped %u pool%s of other users that no live process holds (--all-users, as %s, "
               "%s them)\n",
               foreign, foreign == 1 ? "" : "s", tool_admin_name, dry ? "would remove" : "removes");
    }
    cli_free_pools(pools, n);
    return rc;
}
