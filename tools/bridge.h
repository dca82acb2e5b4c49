/*
 * mmpool bridge: frames from a pool on one machine into a pool on another,
 * over ZeroMQ. What the bridge's files share: the messages on the wire
 * (bridge_wire.c), CURVE keys and the ZAP handler (bridge_keys.c), the
 * status line (bridge_status.c), and the two ends (bridge_send.c,
 * bridge_recv.c). docs/bridge.md describes the protocol byte by byte.
 */
#ifndef MMPOOL_BRIDGE_H
#define MMPOOL_BRIDGE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* ---- Messages (bridge_wire.c) ---- */

/* Every message starts with these four bytes and a version byte. */
#define BRIDGE_MAGIC "MMPB"
#define BRIDGE_VERSION 1

/* The first part of a frame message (sender to receiver); the second part
 * is the payload, exactly len bytes. */
#define BRIDGE_FRAME_HEAD 112
/* A receiver's message to the sender: hello, credit and heartbeat at once. */
#define BRIDGE_CREDIT_SIZE 24
/* The header a receiver started with --header puts before each payload in
 * its pool, to carry the original seq and timestamp. */
#define BRIDGE_STAMP_SIZE 32

/* Message types, byte 5 of every message. */
enum { BRIDGE_FRAME = 1, BRIDGE_CREDIT = 2 };

/* Most frames a receiver may have in flight (its credit window), and the
 * sender's high-water mark per receiver. The credit is the receiver's own
 * word: a receiver that lies about what it took gets a full window after
 * every frame, so the window is also what ZeroMQ queues for it at most. */
#define BRIDGE_WINDOW_MAX 2

/* A frame's description, as it travels in the first part. */
typedef struct bridge_frame {
    uint64_t seq;           /* the sender pool's seq */
    uint64_t timestamp_ns;  /* its commit time, on the sender's mmpool_now_ns() clock */
    uint64_t len;           /* payload bytes, the size of the second part */
    uint64_t slot_capacity; /* the sender pool's geometry, for recv --create */
    uint32_t slot_count;
    char format[MMPOOL_FORMAT_MAX + 1]; /* NUL-terminated */
} bridge_frame;

/* What a receiver tells the sender. received counts the frames this
 * receiver has taken since it started; the sender's credit for it is
 * window - (frames sent - frames received), with received counted from
 * the first message the sender got from it. */
typedef struct bridge_credit {
    uint32_t window;
    uint64_t received;
} bridge_credit;

/* Why a message was dropped: one counter per cause. */
typedef enum bridge_drop {
    BRIDGE_OK = 0,
    BRIDGE_MALFORMED, /* bad magic, version, type, part count, format or geometry */
    BRIDGE_TRUNCATED, /* a part shorter than it must be or than the header says */
    BRIDGE_OVERSIZED, /* a part longer than it must be or than the header says */
    BRIDGE_TOO_BIG,   /* a valid frame larger than the receiving pool's slots */
    BRIDGE_NO_SLOT,   /* every slot of the receiving pool is held by a reader */
    BRIDGE_DROP_KINDS
} bridge_drop;

/* Writes the first part of a frame message into out. */
void bridge_encode_frame(unsigned char out[BRIDGE_FRAME_HEAD], const bridge_frame *f);
/* Checks the first part (head, size bytes) and the size of the payload
 * part, and fills *f. BRIDGE_OK, or the cause for dropping it. Reads
 * nothing beyond size bytes. */
bridge_drop bridge_decode_frame(bridge_frame *f, const void *head, size_t size,
                                size_t payload_size);
void bridge_encode_credit(unsigned char out[BRIDGE_CREDIT_SIZE], const bridge_credit *c);
/* BRIDGE_OK, or the cause for dropping the message. */
bridge_drop bridge_decode_credit(bridge_credit *c, const void *msg, size_t size);
/* The --header stamp put before a payload in the receiving pool. */
void bridge_encode_stamp(unsigned char out[BRIDGE_STAMP_SIZE], const bridge_frame *f);
/* The name of a drop cause, as in the status line and its JSON:
 * "malformed", "truncated", ... */
const char *bridge_drop_name(bridge_drop d);

/* ---- Keys and authentication (bridge_keys.c) ---- */

/* A Z85 key as text: 40 characters and a NUL. */
#define BRIDGE_KEY_TEXT 41

/* Reads a key file (Z85, surrounding white space ignored) into key.
 * CLI_OK, or CLI_ERROR after printing why. */
int bridge_read_key(char key[BRIDGE_KEY_TEXT], const char *path);
/* bridge_read_key() for a secret key, with a warning if the file can be
 * read by its group or others. */
int bridge_read_secret(char key[BRIDGE_KEY_TEXT], const char *path);
/* `mmpool bridge keygen`. */
int bridge_keygen(int argc, char **argv);

/* The ZAP handler of a sender with --curve-allow: a REP socket on
 * inproc://zeromq.zap.01 that the sender's loop serves. */
#define BRIDGE_ZAP_REMEMBERED 16
typedef struct bridge_zap {
    void *socket;
    const char *allow_dir;
    uint64_t refused; /* handshakes refused */
    /* The last keys refused, Z85, oldest overwritten first: each is logged
     * once, however the refused receivers take turns. */
    char refused_keys[BRIDGE_ZAP_REMEMBERED][BRIDGE_KEY_TEXT];
    unsigned refused_next;
    /* The allowed keys as last read, and when: read again when the
     * directory changed (its mtime) or a second has passed (a .pub
     * rewritten in place leaves the directory's mtime alone). */
    char (*keys)[BRIDGE_KEY_TEXT];
    size_t nkeys;
    int64_t dir_sec, dir_nsec;
    uint64_t read_ns; /* 0: never read */
} bridge_zap;
/* Binds the handler in ctx. CLI_OK or CLI_ERROR after printing why. */
int bridge_zap_open(bridge_zap *z, void *ctx, const char *allow_dir);
/* Answers every pending request (call when the socket is readable). */
void bridge_zap_serve(bridge_zap *z);
void bridge_zap_close(bridge_zap *z);

/* ---- Status line (bridge_status.c) ---- */

/* Counters shown once a second. */
typedef struct bridge_status {
    const char *role;   /* "send" or "recv" */
    int quiet, json;    /* --quiet, --json */
    uint64_t frames;    /* frames sent to some receiver, or written into the pool */
    uint64_t bytes;     /* their payload bytes */
    uint64_t skipped;   /* send: frames of the pool no receiver got; recv: seq gaps */
    uint64_t receivers; /* send: receivers known now; recv: 1 while the sender answers */
    uint64_t refused;   /* send: handshakes refused by --curve-allow */
    uint64_t dropped[BRIDGE_DROP_KINDS];       /* by cause; [BRIDGE_OK] unused */
    uint64_t last_ns, last_frames, last_bytes; /* at the previous line */
} bridge_status;
/* Prints the line if a second has passed since the previous one (or if
 * force), to stderr: text, or one JSON object with --json. */
void bridge_status_tick(bridge_status *s, uint64_t now_ns, int force);

/* ---- The ends (bridge_send.c, bridge_recv.c) ---- */

/* Logs "mmpool bridge: ..." on stderr (never suppressed by --quiet). */
void bridge_log(const char *fmt, ...);
/* A socket of the given type with linger 0, these high-water marks (in
 * messages) and ZMQ_MAXMSGSIZE; NULL after logging why. */
void *bridge_socket(void *ctx, int type, int sndhwm, int rcvhwm, int64_t max_message);
/* Receives one whole message if one is waiting: its first max parts into
 * parts[0..max) (initialised here; the caller closes the ones returned),
 * the rest read and discarded. Returns how many parts it had, 0 if none
 * was waiting. */
int bridge_take(void *socket, void *parts, int max);

int bridge_send(int argc, char **argv);
int bridge_recv(int argc, char **argv);

#endif
