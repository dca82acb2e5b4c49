/* The bridge's messages, byte by byte (docs/bridge.md, "On the wire"):
 * encoding, and the checks a message passes before anything acts on it.
 * Numbers are little-endian, whatever the machine. No ZeroMQ here: only
 * bytes. */
#include <string.h>

#include "bridge.h"

/* Offsets in a frame message's first part. */
enum {
    F_MAGIC = 0,      /* "MMPB" */
    F_VERSION = 4,    /* BRIDGE_VERSION */
    F_TYPE = 5,       /* BRIDGE_FRAME */
    F_RESERVED = 6,   /* u16, zero */
    F_SEQ = 8,        /* u64 */
    F_TIME = 16,      /* u64, ns */
    F_LEN = 24,       /* u64, payload bytes */
    F_CAPACITY = 32,  /* u64 */
    F_SLOTS = 40,     /* u32 */
    F_RESERVED2 = 44, /* u32, zero */
    F_FORMAT = 48     /* 64 bytes: the format, NUL, zeros */
};
_Static_assert(F_FORMAT + MMPOOL_FORMAT_MAX + 1 == BRIDGE_FRAME_HEAD, "frame head layout");

/* Offsets in a credit message. */
enum {
    C_WINDOW = 8,    /* u32 */
    C_RESERVED = 12, /* u32, zero */
    C_RECEIVED = 16  /* u64 */
};
_Static_assert(C_RECEIVED + 8 == BRIDGE_CREDIT_SIZE, "credit layout");

/* Offsets in a --header stamp. */
enum {
    S_SIZE = 6,  /* u16, BRIDGE_STAMP_SIZE: where the payload starts */
    S_SEQ = 8,   /* u64 */
    S_TIME = 16, /* u64 */
    S_LEN = 24   /* u64 */
};
_Static_assert(S_LEN + 8 == BRIDGE_STAMP_SIZE, "stamp layout");

static void put_le(unsigned char *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; i++) {
        p[i] = (unsigned char)(v >> (8 * i));
    }
}

static uint64_t get_le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) {
        v = (v << 8) | p[i];
    }
    return v;
}

static void put_start(unsigned char *p, int type) {
    memcpy(p, BRIDGE_MAGIC, 4);
    p[F_VERSION] = BRIDGE_VERSION;
    p[F_TYPE] = (unsigned char)type;
    put_le(p + F_RESERVED, 0, 2);
}

/* The checks every message shares: magic, version, type, reserved bytes. */
static int start_ok(const unsigned char *p, int type) {
    return memcmp(p, BRIDGE_MAGIC, 4) == 0 && p[F_VERSION] == BRIDGE_VERSION && p[F_TYPE] == type &&
           get_le(p + F_RESERVED, 2) == 0;
}

void bridge_encode_frame(unsigned char out[BRIDGE_FRAME_HEAD], const bridge_frame *f) {
    memset(out, 0, BRIDGE_FRAME_HEAD);
    put_start(out, BRIDGE_FRAME);
    put_le(out + F_SEQ, f->seq, 8);
    put_le(out + F_TIME, f->timestamp_ns, 8);
    put_le(out + F_LEN, f->len, 8);
    put_le(out + F_CAPACITY, f->slot_capacity, 8);
    put_le(out + F_SLOTS, f->slot_count, 4);
    const char *end = memchr(f->format, 0, MMPOOL_FORMAT_MAX);
    memcpy(out + F_FORMAT, f->format,
           end != NULL ? (size_t)(end - f->format) : (size_t)MMPOOL_FORMAT_MAX);
}

bridge_drop bridge_decode_frame(bridge_frame *f, const void *head, size_t size,
                                size_t payload_size) {
    const unsigned char *p = head;
    /* The fixed part first: a shorter message may not even hold a magic. */
    if (size < BRIDGE_FRAME_HEAD) {
        return size >= F_TYPE + 1 && !start_ok(p, BRIDGE_FRAME) ? BRIDGE_MALFORMED
                                                                : BRIDGE_TRUNCATED;
    }
    if (!start_ok(p, BRIDGE_FRAME) || get_le(p + F_RESERVED2, 4) != 0) {
        return BRIDGE_MALFORMED;
    }
    if (size > BRIDGE_FRAME_HEAD) {
        return BRIDGE_OVERSIZED;
    }
    f->seq = get_le(p + F_SEQ, 8);
    f->timestamp_ns = get_le(p + F_TIME, 8);
    f->len = get_le(p + F_LEN, 8);
    f->slot_capacity = get_le(p + F_CAPACITY, 8);
    f->slot_count = (uint32_t)get_le(p + F_SLOTS, 4);
    /* The format must end within its field, and nothing may follow its
     * NUL: a format is text that a receiver stores in its pool. */
    const unsigned char *fmt = p + F_FORMAT;
    const unsigned char *nul = memchr(fmt, 0, MMPOOL_FORMAT_MAX + 1);
    if (nul == NULL) {
        return BRIDGE_MALFORMED;
    }
    for (const unsigned char *q = nul; q < fmt + MMPOOL_FORMAT_MAX + 1; q++) {
        if (*q != 0) {
            return BRIDGE_MALFORMED;
        }
    }
    memcpy(f->format, fmt, MMPOOL_FORMAT_MAX + 1);
    /* Geometry a pool could have, and a frame that fits the sender's own
     * slots: anything else did not come from a pool. seq 0 is never
     * given by a pool. */
    if (f->seq == 0 || f->slot_count == 0 || f->slot_count > MMPOOL_MAX_SLOTS ||
        f->slot_capacity == 0 || f->len > f->slot_capacity) {
        return BRIDGE_MALFORMED;
    }
    if (payload_size < f->len) {
        return BRIDGE_TRUNCATED;
    }
    if (payload_size > f->len) {
        return BRIDGE_OVERSIZED;
    }
    return BRIDGE_OK;
}

void bridge_encode_credit(unsigned char out[BRIDGE_CREDIT_SIZE], const bridge_credit *c) {
    memset(out, 0, BRIDGE_CREDIT_SIZE);
    put_start(out, BRIDGE_CREDIT);
    put_le(out + C_WINDOW, c->window, 4);
    put_le(out + C_RECEIVED, c->received, 8);
}

bridge_drop bridge_decode_credit(bridge_credit *c, const void *msg, size_t size) {
    const unsigned char *p = msg;
    if (size < BRIDGE_CREDIT_SIZE) {
        return BRIDGE_TRUNCATED;
    }
    if (size > BRIDGE_CREDIT_SIZE) {
        return BRIDGE_OVERSIZED;
    }
    uint64_t window = get_le(p + C_WINDOW, 4);
    if (!start_ok(p, BRIDGE_CREDIT) || get_le(p + C_RESERVED, 4) != 0 || window == 0 ||
        window > BRIDGE_WINDOW_MAX) {
        return BRIDGE_MALFORMED;
    }
    c->window = (uint32_t)window;
    c->received = get_le(p + C_RECEIVED, 8);
    return BRIDGE_OK;
}

void bridge_encode_stamp(unsigned char out[BRIDGE_STAMP_SIZE], const bridge_frame *f) {
    memset(out, 0, BRIDGE_STAMP_SIZE);
    memcpy(out, BRIDGE_MAGIC, 4);
    out[F_VERSION] = BRIDGE_VERSION;
    put_le(out + S_SIZE, BRIDGE_STAMP_SIZE, 2);
    put_le(out + S_SEQ, f->seq, 8);
    put_le(out + S_TIME, f->timestamp_ns, 8);
    put_le(out + S_LEN, f->len, 8);
}

const char *bridge_drop_name(bridge_drop d) {
    static const char *const names[BRIDGE_DROP_KINDS] = {"ok",        "malformed", "truncated",
                                                         "oversized", "too_big",   "no_slot"};
    return (unsigned)d < BRIDGE_DROP_KINDS ? names[d] : "unknown";
}
