/*
 * Uses an installed mmpool.hpp found with find_package(): creates the pool
 * named by argv[1], writes one frame with a write loan, reads it back with
 * the copying call, checks an error's code, and removes the pool.
 * Exits 0 on success.
 */
#include <mmpool.hpp>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s POOL_NAME\n", argv[0]);
        return 2;
    }
    static const char sent[] = "frame from a C++ find_package consumer";
    int bad = 0;
    try {
        mmpool::options opts;
        opts.slot_capacity = 4096;
        opts.slot_count = 2;
        opts.create = true;
        opts.exclusive = true; /* a name clash with another run is an error */
        mmpool::pool pool(argv[1], opts);
        mmpool::write_loan loan = pool.acquire_write(mmpool::no_wait);
        std::memcpy(loan.data(), sent, sizeof sent);
        loan.commit(sizeof sent);

        char got[sizeof sent];
        mmpool::frame_info f = pool.read(got, sizeof got, mmpool::no_wait);
        if (f.seq != 1 || f.size != sizeof sent || std::memcmp(got, sent, sizeof sent) != 0) {
            std::fprintf(stderr, "read back seq %llu, %llu bytes, not the frame written\n",
                         static_cast<unsigned long long>(f.seq),
                         static_cast<unsigned long long>(f.size));
            bad = 1;
        }
        if (pool.try_read(got, sizeof got)) {
            std::fprintf(stderr, "a second read found a frame in a pool holding one\n");
            bad = 1;
        }
    } catch (const mmpool::error &e) {
        std::fprintf(stderr, "%s\n", e.what());
        bad = 1;
    }
    try {
        mmpool::unlink(argv[1]);
        mmpool::unlink(argv[1]); /* gone now: must throw */
        std::fprintf(stderr, "unlinking a removed pool did not throw\n");
        bad = 1;
    } catch (const mmpool::error &e) {
        if (e.code() != MMPOOL_ENOENT) {
            std::fprintf(stderr, "unlink: %s, expected MMPOOL_ENOENT\n", e.what());
            bad = 1;
        }
    }
    return bad;
}
