/* The relay's per-packet path in C: take an SRTP packet off a publisher's socket,
 * unprotect it, keep aiortc's receive statistics, and write it to every subscriber's
 * socket as that subscriber's stream (header rewritten, SRTP protected, one sendto).
 *
 * Why C: in Python the same steps cost about 35 µs of CPU a forwarded packet, five
 * times a bare asyncio UDP forwarder (docs/benchmarks.md, issue 12); most of it was
 * interpreter work around a system call and an SRTP call per packet.
 *
 * What stays in Python (media/relay/passthrough.py, fanout.py): ICE, DTLS, the SRTP
 * sessions themselves (libsrtp contexts made by pylibsrtp; this file calls libsrtp
 * through the function pointers pylibsrtp's cffi module exports, so both sides share
 * one context and one replay window), RTCP, NACK answers, keyframe requests and every
 * packet that is not the steady case. `Inlet.take` hands a packet back to Python
 * (decrypted, so it is not decrypted twice) whenever anything about it is unusual: a
 * stream not yet bound, a sequence gap or reordering, padding, RTX, a subscriber that
 * is not connected or waits for a key frame. Python then takes its old path, which
 * sends through the same `Outlet` objects, so the rewriting state (sequence and
 * timestamp offsets, NACK history, RTCP counts) has one owner.
 *
 * The aiortc state this keeps up to date as it goes (so RTCP reports and getStats
 * read what they would have read): the receiver's StreamStatistics and
 * NackGenerator, the sender's packet and octet counts and last RTP/NTP timestamps,
 * the DTLS transports' byte and packet counts, and the relay's counters.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

typedef int (*srtp_fn)(void *ctx, void *packet, int *len);

#define RTP_HISTORY_SIZE 128 /* aiortc.rtp.RTP_HISTORY_SIZE */
#define SRTP_TRAILER_MAX 144 /* libsrtp 2: SRTP_MAX_TAG_LEN 16 + SRTP_MAX_MKI_LEN 128 */
#define PACKET_MAX 65535
#define HEADER_MAX 64
#define NTP_EPOCH_OFFSET 2208988800ULL /* 1900 → 1970, seconds */

/* Interned attribute names of the Python objects kept up to date. */
static PyObject *s_state, *s_enabled, *s_rx_bytes, *s_rx_packets, *s_tx_bytes, *s_tx_packets;
static PyObject *s_octet_count, *s_packet_count, *s_ntp_timestamp, *s_rtp_timestamp;
static PyObject *s_packets_received, *s_base_seq, *s_max_seq, *s_cycles, *s_jitter_q4;
static PyObject *s_last_arrival, *s_last_timestamp, *s_missing;
static PyObject *s_frames_in, *s_packets_forwarded, *s_frames_forwarded, *s_dropped_slow;

static double now_realtime(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* aiortc.clock.current_ntp_time(): seconds since 1900 in the high 32 bits. */
static uint64_t now_ntp(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    uint64_t seconds = (uint64_t)t.tv_sec + NTP_EPOCH_OFFSET;
    uint64_t fraction = ((uint64_t)t.tv_nsec << 32) / 1000000000ULL;
    return (seconds << 32) | fraction;
}

/* obj.name += delta, for Python ints. */
static int add_attr(PyObject *obj, PyObject *name, long long delta) {
    PyObject *old = PyObject_GetAttr(obj, name);
    if (old == NULL) return -1;
    PyObject *d = PyLong_FromLongLong(delta);
    if (d == NULL) { Py_DECREF(old); return -1; }
    PyObject *sum = PyNumber_Add(old, d);
    Py_DECREF(old);
    Py_DECREF(d);
    if (sum == NULL) return -1;
    int rc = PyObject_SetAttr(obj, name, sum);
    Py_DECREF(sum);
    return rc;
}

static int set_ll(PyObject *obj, PyObject *name, long long value) {
    PyObject *v = PyLong_FromLongLong(value);
    if (v == NULL) return -1;
    int rc = PyObject_SetAttr(obj, name, v);
    Py_DECREF(v);
    return rc;
}

static int set_ull(PyObject *obj, PyObject *name, unsigned long long value) {
    PyObject *v = PyLong_FromUnsignedLongLong(value);
    if (v == NULL) return -1;
    int rc = PyObject_SetAttr(obj, name, v);
    Py_DECREF(v);
    return rc;
}

/* An int attribute, or -1 for None (and -2 with an exception set on error). */
static long long get_ll(PyObject *obj, PyObject *name) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) return -2;
    if (v == Py_None) { Py_DECREF(v); return -1; }
    long long out = PyLong_AsLongLong(v);
    Py_DECREF(v);
    if (out == -1 && PyErr_Occurred()) return -2;
    return out;
}

static int truthy_attr(PyObject *obj, PyObject *name) {
    PyObject *v = PyObject_GetAttr(obj, name);
    if (v == NULL) return -1;
    int t = PyObject_IsTrue(v);
    Py_DECREF(v);
    return t;
}

static srtp_fn fn_from(PyObject *address) {
    void *p = PyLong_AsVoidPtr(address);
    return (srtp_fn)p;
}

/* ------------------------------------------------------------------------------ */
/* Outlet: one subscriber's RTP stream of one forwarded track.                      */

typedef struct {
    uint8_t *data; /* plain RTP as sent, for NACKs */
    int len;
    int cap;
} HistoryEntry;

typedef struct {
    PyObject_HEAD
    /* what fanout's ForwardedTrack reads and writes */
    int video;
    int need_key;
    long long forwarded; /* frames whose last packet was sent */
    long long dropped;   /* packets */
    /* set by configure() once the subscriber's sender runs */
    int configured;
    PyObject *sender;    /* aiortc RTCRtpSender: _enabled, RTCP counts */
    PyObject *dtls;      /* its RTCDtlsTransport: tx counts */
    PyObject *session;   /* pylibsrtp.Session (tx), kept alive while ctx is used */
    void *ctx;
    srtp_fn protect;
    PyObject *fallback;  /* called with plain RTP when there is no plain socket (TURN) */
    int fd;
    struct sockaddr_storage dest;
    socklen_t dest_len;
    uint32_t ssrc;
    uint8_t payload_type;
    int mid_id, abs_id;
    uint8_t mid[32];
    int mid_len;
    /* rewriting state */
    int seq_base;        /* the first sequence number this stream sends */
    int have_offset;
    uint16_t seq_offset;
    uint32_t ts_offset;
    uint8_t header[HEADER_MAX];
    int header_len;
    int have_header;
    uint32_t header_ts;
    long long packets, octets; /* what aiortc's sender reports had when configured, plus ours */
    HistoryEntry history[RTP_HISTORY_SIZE];
    uint16_t history_seq[RTP_HISTORY_SIZE];
    uint8_t *buffer;     /* PACKET_MAX + HEADER_MAX + SRTP_TRAILER_MAX */
} Outlet;

static int outlet_clear_refs(Outlet *self) {
    Py_CLEAR(self->sender);
    Py_CLEAR(self->dtls);
    Py_CLEAR(self->session);
    Py_CLEAR(self->fallback);
    return 0;
}

static int Outlet_traverse(Outlet *self, visitproc visit, void *arg) {
    Py_VISIT(self->sender);
    Py_VISIT(self->dtls);
    Py_VISIT(self->session);
    Py_VISIT(self->fallback);
    return 0;
}

static void Outlet_dealloc(Outlet *self) {
    PyObject_GC_UnTrack(self);
    outlet_clear_refs(self);
    for (int i = 0; i < RTP_HISTORY_SIZE; i++) PyMem_Free(self->history[i].data);
    PyMem_Free(self->buffer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Outlet_init(Outlet *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"video", "seq_base", "ts_offset", NULL};
    int video, seq_base;
    unsigned int ts_offset;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "piI", kw, &video, &seq_base, &ts_offset))
        return -1;
    self->video = video;
    self->need_key = video; /* video starts at a key frame */
    self->seq_base = seq_base & 0xFFFF;
    self->ts_offset = ts_offset;
    self->fd = -1;
    if (self->buffer == NULL) {
        self->buffer = PyMem_Malloc(PACKET_MAX + HEADER_MAX + SRTP_TRAILER_MAX);
        if (self->buffer == NULL) { PyErr_NoMemory(); return -1; }
    }
    return 0;
}

static int parse_address(const char *host, int port, struct sockaddr_storage *out, socklen_t *len) {
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        *len = sizeof(*v4);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*v6);
        return 0;
    }
    return -1;
}

/* configure(sender, dtls, session, ctx, protect, ssrc, payload_type, mid, mid_id, abs_id,
 *           fd, host, port, fallback) */
static PyObject *Outlet_configure(Outlet *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"sender", "dtls", "session", "ctx", "protect", "ssrc", "payload_type",
                         "mid", "mid_id", "abs_id", "fd", "host", "port", "fallback", NULL};
    PyObject *sender, *dtls, *session, *ctx, *protect, *fallback;
    unsigned int ssrc;
    int payload_type, mid_id, abs_id, fd, port;
    const char *mid, *host;
    Py_ssize_t mid_len;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOIiz#iiiziO", kw, &sender, &dtls,
                                     &session, &ctx, &protect, &ssrc, &payload_type, &mid,
                                     &mid_len, &mid_id, &abs_id, &fd, &host, &port, &fallback))
        return NULL;
    if (mid == NULL) mid_len = 0;
    if (mid_len > 16 || payload_type < 0 || payload_type > 127 || mid_id < 0 || mid_id > 255 ||
        abs_id < 0 || abs_id > 255) {
        PyErr_SetString(PyExc_ValueError, "unsupported mid, payload type or extension id");
        return NULL;
    }
    if (fd >= 0) {
        if (host == NULL || parse_address(host, port, &self->dest, &self->dest_len) < 0) {
            PyErr_SetString(PyExc_ValueError, "destination is not an IP address");
            return NULL;
        }
    }
    outlet_clear_refs(self);
    Py_INCREF(sender); self->sender = sender;
    Py_INCREF(dtls); self->dtls = dtls;
    Py_INCREF(session); self->session = session;
    Py_INCREF(fallback); self->fallback = fallback;
    self->ctx = PyLong_AsVoidPtr(ctx);
    self->protect = fn_from(protect);
    if (PyErr_Occurred()) return NULL;
    self->ssrc = ssrc;
    self->payload_type = (uint8_t)payload_type;
    self->mid_id = mid_id;
    self->abs_id = abs_id;
    memcpy(self->mid, mid ? mid : "", (size_t)mid_len);
    self->mid_len = (int)mid_len;
    self->fd = fd;
    self->have_header = 0;
    long long packets = get_ll(sender, s_packet_count);
    long long octets = get_ll(sender, s_octet_count);
    if (packets == -2 || octets == -2) return NULL;
    self->packets = packets < 0 ? 0 : packets;
    self->octets = octets < 0 ? 0 : octets;
    self->configured = 1;
    Py_RETURN_NONE;
}

static PyObject *Outlet_unconfigure(Outlet *self, PyObject *unused) {
    self->configured = 0;
    self->fd = -1;
    outlet_clear_refs(self);
    Py_RETURN_NONE;
}

/* RFC 8285 header extensions as aiortc's HeaderExtensionsMap.set builds them for a
 * packet carrying mid and abs-send-time: one-byte form unless an id or length does not
 * fit it; padded to 32 bits. Returns the header's length. */
static int build_header(Outlet *o, uint32_t timestamp, uint32_t abs_send_time) {
    uint8_t *h = o->header;
    uint8_t ext[40];
    int n = 0;
    int have_mid = o->mid_id > 0 && o->mid_len > 0;
    int have_abs = o->abs_id > 0;
    int one_byte = (!have_mid || (o->mid_id <= 14 && o->mid_len >= 1 && o->mid_len <= 16)) &&
                   (!have_abs || o->abs_id <= 14);
    uint8_t abs[3] = {(uint8_t)(abs_send_time >> 16), (uint8_t)(abs_send_time >> 8),
                      (uint8_t)abs_send_time};
    if (have_mid) {
        if (one_byte) ext[n++] = (uint8_t)((o->mid_id << 4) | (o->mid_len - 1));
        else { ext[n++] = (uint8_t)o->mid_id; ext[n++] = (uint8_t)o->mid_len; }
        memcpy(ext + n, o->mid, (size_t)o->mid_len);
        n += o->mid_len;
    }
    if (have_abs) {
        if (one_byte) ext[n++] = (uint8_t)((o->abs_id << 4) | 2);
        else { ext[n++] = (uint8_t)o->abs_id; ext[n++] = 3; }
        memcpy(ext + n, abs, 3);
        n += 3;
    }
    while (n % 4) ext[n++] = 0;
    h[0] = 0x80 | (n ? 0x10 : 0);
    h[1] = o->payload_type;
    h[2] = h[3] = 0;
    h[4] = (uint8_t)(timestamp >> 24); h[5] = (uint8_t)(timestamp >> 16);
    h[6] = (uint8_t)(timestamp >> 8); h[7] = (uint8_t)timestamp;
    h[8] = (uint8_t)(o->ssrc >> 24); h[9] = (uint8_t)(o->ssrc >> 16);
    h[10] = (uint8_t)(o->ssrc >> 8); h[11] = (uint8_t)o->ssrc;
    int len = 12;
    if (n) {
        uint16_t profile = one_byte ? 0xBEDE : 0x1000;
        h[12] = (uint8_t)(profile >> 8); h[13] = (uint8_t)profile;
        h[14] = (uint8_t)((n / 4) >> 8); h[15] = (uint8_t)(n / 4);
        memcpy(h + 16, ext, (size_t)n);
        len = 16 + n;
    }
    return len;
}

static int outlet_ready(Outlet *o) {
    if (!o->configured) return 0;
    return truthy_attr(o->sender, s_enabled);
}

/* Send one packet of the publisher's stream as this subscriber's. 1: sent (or let go
 * before the outlet is configured), 0: dropped because the socket's buffer is full,
 * -1: a Python error is set. */
static int outlet_send(Outlet *o, const uint8_t *payload, Py_ssize_t payload_len,
                       uint16_t sequence_number, uint32_t timestamp, int marker) {
    if (!o->configured) return 1;
    if (payload_len > PACKET_MAX) return 1;
    if (!o->have_offset) {
        o->seq_offset = (uint16_t)((o->seq_base - sequence_number) & 0xFFFF);
        o->have_offset = 1;
    }
    uint16_t seq = (uint16_t)(sequence_number + o->seq_offset);
    uint32_t ts = timestamp + o->ts_offset;
    if (!o->have_header || ts != o->header_ts) { /* a new frame */
        uint64_t ntp = now_ntp();
        o->header_len = build_header(o, ts, (uint32_t)((ntp >> 14) & 0x00FFFFFF));
        o->header_ts = ts;
        o->have_header = 1;
        if (set_ull(o->sender, s_ntp_timestamp, ntp) < 0) return -1;
        if (set_ll(o->sender, s_rtp_timestamp, ts) < 0) return -1;
    }
    o->header[1] = (uint8_t)((marker ? 0x80 : 0) | o->payload_type);
    o->header[2] = (uint8_t)(seq >> 8);
    o->header[3] = (uint8_t)seq;
    int len = o->header_len + (int)payload_len;
    uint8_t *buf = o->buffer;
    memcpy(buf, o->header, (size_t)o->header_len);
    memcpy(buf + o->header_len, payload, (size_t)payload_len);

    /* Kept for NACKs before it is protected in place; forgotten if it was not sent. */
    int slot = seq % RTP_HISTORY_SIZE;
    HistoryEntry *entry = &o->history[slot];
    if (entry->cap < len) {
        uint8_t *grown = PyMem_Realloc(entry->data, (size_t)len);
        if (grown == NULL) { PyErr_NoMemory(); return -1; }
        entry->data = grown;
        entry->cap = len;
    }
    memcpy(entry->data, buf, (size_t)len);
    entry->len = len;
    o->history_seq[slot] = seq;
    if (o->fd < 0) { /* no plain socket (a TURN allocation): Python protects and sends */
        PyObject *plain = PyBytes_FromStringAndSize((const char *)buf, len);
        if (plain == NULL) return -1;
        PyObject *r = PyObject_CallOneArg(o->fallback, plain);
        Py_DECREF(plain);
        if (r == NULL) return -1;
        int sent = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (sent <= 0) { entry->len = 0; return sent; }
        if (!o->configured) return 1; /* stopped meanwhile: nothing more to count */
    } else {
        int protected_len = len;
        if (o->protect(o->ctx, buf, &protected_len) != 0) { entry->len = 0; return 1; }
        ssize_t n = sendto(o->fd, buf, (size_t)protected_len, 0,
                           (struct sockaddr *)&o->dest, o->dest_len);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            entry->len = 0;
            return 0;
        }
        /* Other errors (an ICMP error reported late, say) lose the packet as the
         * network would; asyncio would pass them to error_received, which ignores them. */
        if (add_attr(o->dtls, s_tx_bytes, protected_len) < 0) return -1;
        if (add_attr(o->dtls, s_tx_packets, 1) < 0) return -1;
    }
    o->packets += 1;
    o->octets += payload_len;
    if (set_ll(o->sender, s_packet_count, o->packets) < 0) return -1;
    if (set_ll(o->sender, s_octet_count, o->octets) < 0) return -1;
    return 1;
}

static PyObject *Outlet_send(Outlet *self, PyObject *args) {
    Py_buffer payload;
    int sequence_number, marker;
    unsigned int timestamp;
    if (!PyArg_ParseTuple(args, "y*iIp", &payload, &sequence_number, &timestamp, &marker))
        return NULL;
    int r = outlet_send(self, payload.buf, payload.len, (uint16_t)sequence_number, timestamp,
                        marker);
    PyBuffer_Release(&payload);
    if (r < 0) return NULL;
    return PyBool_FromLong(r);
}

static PyObject *Outlet_history(Outlet *self, PyObject *arg) {
    long seq = PyLong_AsLong(arg);
    if (seq == -1 && PyErr_Occurred()) return NULL;
    int slot = (int)((seq & 0xFFFF) % RTP_HISTORY_SIZE);
    HistoryEntry *entry = &self->history[slot];
    if (entry->len == 0 || self->history_seq[slot] != (uint16_t)seq) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)entry->data, entry->len);
}

static PyObject *Outlet_get_ready(Outlet *self, void *closure) {
    int r = outlet_ready(self);
    if (r < 0) return NULL;
    return PyBool_FromLong(r);
}

static PyObject *Outlet_get_configured(Outlet *self, void *closure) {
    return PyBool_FromLong(self->configured);
}

static PyMemberDef Outlet_members[] = {
    {"need_key", T_INT, offsetof(Outlet, need_key), 0, "waits for a key frame"},
    {"forwarded", T_LONGLONG, offsetof(Outlet, forwarded), 0, "frames sent"},
    {"dropped", T_LONGLONG, offsetof(Outlet, dropped), 0, "packets dropped"},
    {"fd", T_INT, offsetof(Outlet, fd), READONLY, "the socket written to, -1: Python's"},
    {NULL},
};

static PyGetSetDef Outlet_getset[] = {
    {"ready", (getter)Outlet_get_ready, NULL, "configured and its sender enabled", NULL},
    {"configured", (getter)Outlet_get_configured, NULL, "its sender runs", NULL},
    {NULL},
};

static PyMethodDef Outlet_methods[] = {
    {"configure", (PyCFunction)(void (*)(void))Outlet_configure, METH_VARARGS | METH_KEYWORDS,
     "Start sending: the subscriber's sender, transport, SRTP session and socket."},
    {"unconfigure", (PyCFunction)Outlet_unconfigure, METH_NOARGS, "Stop sending."},
    {"send", (PyCFunction)Outlet_send, METH_VARARGS,
     "send(payload, sequence_number, timestamp, marker) -> False if dropped"},
    {"history", (PyCFunction)Outlet_history, METH_O, "The plain RTP packet sent as seq."},
    {NULL},
};

static PyTypeObject OutletType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.relay._fastpath.Outlet",
    .tp_doc = "One subscriber's RTP stream of one forwarded track.",
    .tp_basicsize = sizeof(Outlet),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Outlet_init,
    .tp_dealloc = (destructor)Outlet_dealloc,
    .tp_traverse = (traverseproc)Outlet_traverse,
    .tp_clear = (inquiry)outlet_clear_refs,
    .tp_members = Outlet_members,
    .tp_getset = Outlet_getset,
    .tp_methods = Outlet_methods,
};

/* ------------------------------------------------------------------------------ */
/* Route: one publication's packets, fanned out to its subscribers' outlets.        */

typedef struct {
    PyObject_HEAD
    int video;
    int ended;
    PyObject *outlets;       /* list of Outlet, in the order they subscribed */
    PyObject *counters;      /* fanout.RelayCounters */
    PyObject *want_keyframe; /* callable: ask the publisher for a key frame (throttled) */
    long long packets;       /* taken the C way */
    /* bound by bind() when the receiver has seen its stream */
    int bound;
    uint32_t ssrc;
    int payload_type;
    int clockrate;
    int abs_id;              /* the publisher's abs-send-time extension id, 0: none */
    PyObject *receiver;      /* aiortc RTCRtpReceiver: _enabled */
    PyObject *stats;         /* its StreamStatistics for ssrc */
    PyObject *nacks;         /* its NackGenerator, or None */
    PyObject *on_frame;      /* on_frame(abs_send_time, arrival_ms, size): bandwidth estimate */
    PyObject *tick;          /* tick(ssrc, arrival_ms): once a second */
    long long frame_bytes;
    long long last_tick_ms;
} Route;

static int Route_clear(Route *self) {
    Py_CLEAR(self->outlets);
    Py_CLEAR(self->counters);
    Py_CLEAR(self->want_keyframe);
    Py_CLEAR(self->receiver);
    Py_CLEAR(self->stats);
    Py_CLEAR(self->nacks);
    Py_CLEAR(self->on_frame);
    Py_CLEAR(self->tick);
    return 0;
}

static int Route_traverse(Route *self, visitproc visit, void *arg) {
    Py_VISIT(self->outlets);
    Py_VISIT(self->counters);
    Py_VISIT(self->want_keyframe);
    Py_VISIT(self->receiver);
    Py_VISIT(self->stats);
    Py_VISIT(self->nacks);
    Py_VISIT(self->on_frame);
    Py_VISIT(self->tick);
    return 0;
}

static void Route_dealloc(Route *self) {
    PyObject_GC_UnTrack(self);
    Route_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Route_init(Route *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"video", "counters", "want_keyframe", NULL};
    int video;
    PyObject *counters, *want;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "pOO", kw, &video, &counters, &want))
        return -1;
    Route_clear(self);
    self->video = video;
    self->outlets = PyList_New(0);
    if (self->outlets == NULL) return -1;
    Py_INCREF(counters); self->counters = counters;
    Py_INCREF(want); self->want_keyframe = want;
    return 0;
}

static PyObject *Route_bind(Route *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"ssrc", "payload_type", "clockrate", "abs_id", "receiver", "stats",
                         "nacks", "on_frame", "tick", NULL};
    unsigned int ssrc;
    int payload_type, clockrate, abs_id;
    PyObject *receiver, *stats, *nacks, *on_frame, *tick;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "IiiiOOOOO", kw, &ssrc, &payload_type,
                                     &clockrate, &abs_id, &receiver, &stats, &nacks, &on_frame,
                                     &tick))
        return NULL;
    if (clockrate <= 0) {
        PyErr_SetString(PyExc_ValueError, "clock rate must be positive");
        return NULL;
    }
    Py_CLEAR(self->receiver); Py_INCREF(receiver); self->receiver = receiver;
    Py_CLEAR(self->stats); Py_INCREF(stats); self->stats = stats;
    Py_CLEAR(self->nacks); Py_INCREF(nacks); self->nacks = nacks;
    Py_CLEAR(self->on_frame); Py_INCREF(on_frame); self->on_frame = on_frame;
    Py_CLEAR(self->tick); Py_INCREF(tick); self->tick = tick;
    self->ssrc = ssrc;
    self->payload_type = payload_type;
    self->clockrate = clockrate;
    self->abs_id = abs_id;
    self->frame_bytes = 0;
    self->last_tick_ms = 0;
    self->bound = 1;
    Py_RETURN_NONE;
}

/* ForwardedTrack.offer for every subscriber, in the steady case `steady` checked (all
 * connected, none waiting for a key frame): send, count, and on a full socket buffer
 * drop and wait for the next key frame. Returns -1 with a Python error set. */
static int route_fan_out(Route *r, const uint8_t *payload, Py_ssize_t n, uint16_t seq,
                         uint32_t ts, int marker) {
    long long forwarded = 0, frames = 0, slow = 0;
    int want = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(r->outlets); i++) {
        Outlet *o = (Outlet *)PyList_GET_ITEM(r->outlets, i);
        Py_INCREF(o);
        int sent = outlet_send(o, payload, n, seq, ts, marker);
        Py_DECREF(o);
        if (sent < 0) return -1;
        if (!sent) {
            o->dropped += 1;
            slow += 1;
            if (o->video) { /* what follows needs the packet lost: skip to a key frame */
                o->need_key = 1;
                want = 1;
            }
            continue;
        }
        forwarded += 1;
        if (marker || !o->video) {
            o->forwarded += 1;
            frames += 1;
        }
    }
    if (forwarded && add_attr(r->counters, s_packets_forwarded, forwarded) < 0) return -1;
    if (frames && add_attr(r->counters, s_frames_forwarded, frames) < 0) return -1;
    if (slow && add_attr(r->counters, s_dropped_slow, slow) < 0) return -1;
    if (want) {
        PyObject *res = PyObject_CallNoArgs(r->want_keyframe);
        if (res == NULL) return -1;
        Py_DECREF(res);
    }
    return 0;
}

static PyMemberDef Route_members[] = {
    {"video", T_BOOL, offsetof(Route, video), READONLY, "a video track"},
    {"ended", T_INT, offsetof(Route, ended), 0, "the publication ended: forward nothing"},
    {"outlets", T_OBJECT_EX, offsetof(Route, outlets), READONLY, "subscribers' outlets"},
    {"packets", T_LONGLONG, offsetof(Route, packets), READONLY, "packets taken in C"},
    {NULL},
};

static PyMethodDef Route_methods[] = {
    {"bind", (PyCFunction)(void (*)(void))Route_bind, METH_VARARGS | METH_KEYWORDS,
     "Bind to the receiver's stream, so that Inlet.take can handle its packets."},
    {NULL},
};

static PyTypeObject RouteType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.relay._fastpath.Route",
    .tp_doc = "One publication's packets, fanned out to its subscribers' outlets.",
    .tp_basicsize = sizeof(Route),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Route_init,
    .tp_dealloc = (destructor)Route_dealloc,
    .tp_traverse = (traverseproc)Route_traverse,
    .tp_clear = (inquiry)Route_clear,
    .tp_members = Route_members,
    .tp_methods = Route_methods,
};

/* ------------------------------------------------------------------------------ */
/* Inlet: the receive side of one publisher's DTLS transport.                       */

typedef struct {
    PyObject_HEAD
    PyObject *transport; /* RTCDtlsTransport */
    PyObject *connected; /* State.CONNECTED */
    PyObject *session;   /* pylibsrtp.Session (rx) */
    void *ctx;
    srtp_fn unprotect;
    PyObject *routes;    /* dict: ssrc -> Route */
    long long taken;     /* packets forwarded entirely here */
    uint8_t *buffer;
} Inlet;

static int Inlet_clear(Inlet *self) {
    Py_CLEAR(self->transport);
    Py_CLEAR(self->connected);
    Py_CLEAR(self->session);
    Py_CLEAR(self->routes);
    return 0;
}

static int Inlet_traverse(Inlet *self, visitproc visit, void *arg) {
    Py_VISIT(self->transport);
    Py_VISIT(self->connected);
    Py_VISIT(self->session);
    Py_VISIT(self->routes);
    return 0;
}

static void Inlet_dealloc(Inlet *self) {
    PyObject_GC_UnTrack(self);
    Inlet_clear(self);
    PyMem_Free(self->buffer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Inlet_init(Inlet *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"transport", "connected", "session", "ctx", "unprotect", NULL};
    PyObject *transport, *connected, *session, *ctx, *unprotect;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOO", kw, &transport, &connected,
                                     &session, &ctx, &unprotect))
        return -1;
    Inlet_clear(self);
    Py_INCREF(transport); self->transport = transport;
    Py_INCREF(connected); self->connected = connected;
    Py_INCREF(session); self->session = session;
    self->ctx = PyLong_AsVoidPtr(ctx);
    self->unprotect = fn_from(unprotect);
    if (PyErr_Occurred()) return -1;
    self->routes = PyDict_New();
    if (self->routes == NULL) return -1;
    if (self->buffer == NULL) {
        self->buffer = PyMem_Malloc(PACKET_MAX + SRTP_TRAILER_MAX);
        if (self->buffer == NULL) { PyErr_NoMemory(); return -1; }
    }
    return 0;
}

static PyObject *Inlet_add(Inlet *self, PyObject *args) {
    PyObject *ssrc, *route;
    if (!PyArg_ParseTuple(args, "OO!", &ssrc, &RouteType, &route)) return NULL;
    if (PyDict_SetItem(self->routes, ssrc, route) < 0) return NULL;
    Py_RETURN_NONE;
}

/* Where the payload starts and the abs-send-time value (-1: none), for a plain RTP
 * packet; -1 if the packet is malformed or carries padding (Python's way then). */
static Py_ssize_t parse_rtp(const uint8_t *d, Py_ssize_t n, int abs_id, long *abs_send_time) {
    *abs_send_time = -1;
    if (n < 12 || (d[0] >> 6) != 2 || (d[0] & 0x20)) return -1;
    Py_ssize_t pos = 12 + 4 * (d[0] & 0x0F);
    if (n < pos) return -1;
    if (d[0] & 0x10) {
        if (n < pos + 4) return -1;
        unsigned profile = ((unsigned)d[pos] << 8) | d[pos + 1];
        Py_ssize_t ext_len = (((Py_ssize_t)d[pos + 2] << 8) | d[pos + 3]) * 4;
        pos += 4;
        if (n < pos + ext_len) return -1;
        const uint8_t *e = d + pos;
        Py_ssize_t i = 0;
        if (abs_id > 0 && profile == 0xBEDE) {
            while (i < ext_len) {
                uint8_t b = e[i];
                if (b == 0) { i++; continue; }
                int id = b >> 4, len = (b & 0x0F) + 1;
                if (id == 15) break;
                if (i + 1 + len > ext_len) break;
                if (id == abs_id && len == 3)
                    *abs_send_time = ((long)e[i + 1] << 16) | ((long)e[i + 2] << 8) | e[i + 3];
                i += 1 + len;
            }
        } else if (abs_id > 0 && (profile & 0xFFF0) == 0x1000) {
            while (i + 1 < ext_len) {
                int id = e[i];
                if (id == 0) { i++; continue; }
                int len = e[i + 1];
                if (i + 2 + len > ext_len) break;
                if (id == abs_id && len == 3)
                    *abs_send_time = ((long)e[i + 2] << 16) | ((long)e[i + 3] << 8) | e[i + 4];
                i += 2 + len;
            }
        }
        pos += ext_len;
    }
    return pos;
}

/* StreamStatistics.add for a packet known to be in order (sequence max_seq + 1). */
static int stats_add(Route *r, uint16_t seq, uint32_t ts, double now) {
    PyObject *st = r->stats;
    long long received = get_ll(st, s_packets_received);
    long long max_seq = get_ll(st, s_max_seq);
    long long cycles = get_ll(st, s_cycles);
    long long jitter = get_ll(st, s_jitter_q4);
    long long last_arrival = get_ll(st, s_last_arrival);
    long long last_ts = get_ll(st, s_last_timestamp);
    if (received == -2 || max_seq == -2 || cycles == -2 || jitter == -2 ||
        last_arrival == -2 || last_ts == -2)
        return -1;
    received += 1;
    long long arrival = (long long)(now * r->clockrate);
    if (max_seq >= 0 && seq < max_seq) cycles += 1 << 16;
    if (last_ts != (long long)ts && received > 1 && last_arrival >= 0 && last_ts >= 0) {
        long long diff = (arrival - last_arrival) - ((long long)ts - last_ts);
        if (diff < 0) diff = -diff;
        jitter += diff - ((jitter + 8) >> 4);
    }
    if (set_ll(st, s_packets_received, received) < 0) return -1;
    if (set_ll(st, s_max_seq, seq) < 0) return -1;
    if (set_ll(st, s_cycles, cycles) < 0) return -1;
    if (set_ll(st, s_jitter_q4, jitter) < 0) return -1;
    if (set_ll(st, s_last_arrival, arrival) < 0) return -1;
    if (set_ll(st, s_last_timestamp, ts) < 0) return -1;
    return 0;
}

/* Whether Inlet.take may handle a packet of route r with this sequence number: the
 * stream in order and nothing missing (NACK bookkeeping stays Python's), every
 * subscriber connected on a plain socket and not waiting for a key frame. */
static int steady(Route *r, uint16_t seq) {
    if (!r->bound || r->ended) return 0;
    int enabled = truthy_attr(r->receiver, s_enabled);
    if (enabled <= 0) return enabled;
    long long max_seq = get_ll(r->stats, s_max_seq);
    long long base_seq = get_ll(r->stats, s_base_seq);
    if (max_seq == -2 || base_seq == -2) return -1;
    if (max_seq < 0 || base_seq < 0 || (uint16_t)(max_seq + 1) != seq) return 0;
    if (r->nacks != Py_None) {
        long long nack_max = get_ll(r->nacks, s_max_seq);
        if (nack_max == -2) return -1;
        if (nack_max < 0 || (uint16_t)(nack_max + 1) != seq) return 0;
        PyObject *missing = PyObject_GetAttr(r->nacks, s_missing);
        if (missing == NULL) return -1;
        Py_ssize_t m = PyObject_Length(missing);
        Py_DECREF(missing);
        if (m != 0) return m < 0 ? -1 : 0;
    }
    Py_ssize_t count = PyList_GET_SIZE(r->outlets);
    for (Py_ssize_t i = 0; i < count; i++) {
        Outlet *o = (Outlet *)PyList_GET_ITEM(r->outlets, i);
        if (o->need_key || o->fd < 0) return 0;
        int ready = outlet_ready(o);
        if (ready <= 0) return ready;
    }
    return 1;
}

enum { TAKE_ERROR = -1, TAKE_NOT_OURS = 0, TAKE_DONE = 1, TAKE_PLAIN = 2 };

/* One datagram: TAKE_NOT_OURS if it is not SRTP for this path (DTLS, SRTCP, not
 * connected yet: aiortc's), TAKE_DONE if it was forwarded here (or dropped because it
 * did not authenticate, as Python's path would), TAKE_PLAIN if Python's path must
 * handle it — the plain RTP packet is then in self->buffer, *plain_len long. */
static int take(Inlet *self, const uint8_t *d, Py_ssize_t n, int *plain_len) {
    if (n < 12 || d[0] < 128 || d[0] > 191 || (d[1] >= 192 && d[1] <= 208) || n > PACKET_MAX)
        return TAKE_NOT_OURS;
    PyObject *state = PyObject_GetAttr(self->transport, s_state);
    if (state == NULL) return TAKE_ERROR;
    int connected = state == self->connected;
    Py_DECREF(state);
    if (!connected) return TAKE_NOT_OURS;
    if (add_attr(self->transport, s_rx_bytes, n) < 0) return TAKE_ERROR;
    if (add_attr(self->transport, s_rx_packets, 1) < 0) return TAKE_ERROR;

    uint8_t *buf = self->buffer;
    memcpy(buf, d, (size_t)n);
    int len = (int)n;
    if (self->unprotect(self->ctx, buf, &len) != 0) return TAKE_DONE;
    *plain_len = len;

    uint32_t ssrc = ((uint32_t)buf[8] << 24) | ((uint32_t)buf[9] << 16) |
                    ((uint32_t)buf[10] << 8) | buf[11];
    PyObject *key = PyLong_FromUnsignedLong(ssrc);
    if (key == NULL) return TAKE_ERROR;
    Route *r = (Route *)PyDict_GetItemWithError(self->routes, key);
    Py_DECREF(key);
    if (r == NULL && PyErr_Occurred()) return TAKE_ERROR;
    uint16_t seq = (uint16_t)(((unsigned)buf[2] << 8) | buf[3]);
    int pt = buf[1] & 0x7F;
    long abs_send_time = -1;
    Py_ssize_t at = r == NULL ? -1 : parse_rtp(buf, len, r->abs_id, &abs_send_time);
    if (r == NULL || at < 0 || at >= len || pt != r->payload_type) return TAKE_PLAIN;
    int ok = steady(r, seq);
    if (ok < 0) return TAKE_ERROR;
    if (!ok) return TAKE_PLAIN;

    Py_INCREF(r); /* a callback below may unbind it */
    int rc = TAKE_ERROR;
    int marker = buf[1] >> 7;
    uint32_t ts = ((uint32_t)buf[4] << 24) | ((uint32_t)buf[5] << 16) |
                  ((uint32_t)buf[6] << 8) | buf[7];
    double now = now_realtime();
    long long arrival_ms = (long long)(now * 1000) + (long long)NTP_EPOCH_OFFSET * 1000;
    if (stats_add(r, seq, ts, now) < 0) goto done;
    if (r->nacks != Py_None && set_ll(r->nacks, s_max_seq, seq) < 0) goto done;
    r->packets += 1;
    self->taken += 1;
    if (arrival_ms - r->last_tick_ms >= 1000) {
        r->last_tick_ms = arrival_ms;
        PyObject *res = PyObject_CallFunction(r->tick, "kL", (unsigned long)ssrc, arrival_ms);
        if (res == NULL) goto done;
        Py_DECREF(res);
    }
    if (abs_send_time >= 0 && r->on_frame != Py_None) {
        /* The bandwidth estimate is fed a frame at a time: the frame's bytes at the
         * send and arrival time of its last packet (docs/media.md). */
        r->frame_bytes += len - at;
        if (marker || !r->video) {
            PyObject *res = PyObject_CallFunction(r->on_frame, "lLL", abs_send_time,
                                                  arrival_ms, r->frame_bytes);
            r->frame_bytes = 0;
            if (res == NULL) goto done;
            Py_DECREF(res);
        }
    }
    if ((marker || !r->video) && add_attr(r->counters, s_frames_in, 1) < 0) goto done;
    if (route_fan_out(r, buf + at, len - at, seq, ts, marker) < 0) goto done;
    rc = TAKE_DONE;
done:
    Py_DECREF(r);
    return rc;
}

/* take(datagram) -> None: not SRTP for this path (give it to aiortc); True: done
 * (forwarded, or dropped because it did not authenticate); bytes: the plain RTP
 * packet, for Python's path. */
static PyObject *Inlet_take(Inlet *self, PyObject *arg) {
    char *data;
    Py_ssize_t n;
    if (PyBytes_AsStringAndSize(arg, &data, &n) < 0) return NULL;
    int plain_len = 0;
    switch (take(self, (const uint8_t *)data, n, &plain_len)) {
    case TAKE_NOT_OURS: Py_RETURN_NONE;
    case TAKE_DONE: Py_RETURN_TRUE;
    case TAKE_PLAIN: return PyBytes_FromStringAndSize((const char *)self->buffer, plain_len);
    default: return NULL;
    }
}

/* ------------------------------------------------------------------------------ */
/* The nominated pair's socket, read here instead of by asyncio's datagram transport. */

static PyObject *address_tuple(const struct sockaddr_storage *a) {
    char host[INET6_ADDRSTRLEN];
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof(host));
        return Py_BuildValue("(si)", host, ntohs(v4->sin_port));
    }
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)a;
    inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof(host));
    return Py_BuildValue("(siII)", host, ntohs(v6->sin6_port), ntohl(v6->sin6_flowinfo),
                         v6->sin6_scope_id);
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
    const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

typedef struct {
    PyObject_HEAD
    Inlet *inlet;
    int fd;
    struct sockaddr_storage peer; /* the nominated pair's remote address */
    PyObject *on_datagram;        /* (data, addr): what asyncio would have delivered */
    PyObject *on_plain;           /* (plain): an RTP packet for Python's path */
    PyObject *on_error;           /* (errno): a socket error, as asyncio reports it */
    uint8_t *buffer;
    long long datagrams;
} Reader;

static int Reader_clear(Reader *self) {
    Py_CLEAR(self->inlet);
    Py_CLEAR(self->on_datagram);
    Py_CLEAR(self->on_plain);
    Py_CLEAR(self->on_error);
    return 0;
}

static int Reader_traverse(Reader *self, visitproc visit, void *arg) {
    Py_VISIT(self->inlet);
    Py_VISIT(self->on_datagram);
    Py_VISIT(self->on_plain);
    Py_VISIT(self->on_error);
    return 0;
}

static void Reader_dealloc(Reader *self) {
    PyObject_GC_UnTrack(self);
    Reader_clear(self);
    PyMem_Free(self->buffer);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject InletType;

static int Reader_init(Reader *self, PyObject *args, PyObject *kwargs) {
    static char *kw[] = {"inlet", "fd", "host", "port", "on_datagram", "on_plain", "on_error",
                         NULL};
    PyObject *inlet, *on_datagram, *on_plain, *on_error;
    int fd, port;
    const char *host;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!isiOOO", kw, &InletType, &inlet, &fd,
                                     &host, &port, &on_datagram, &on_plain, &on_error))
        return -1;
    socklen_t len;
    if (parse_address(host, port, &self->peer, &len) < 0) {
        PyErr_SetString(PyExc_ValueError, "peer is not an IP address");
        return -1;
    }
    Reader_clear(self);
    Py_INCREF(inlet); self->inlet = (Inlet *)inlet;
    Py_INCREF(on_datagram); self->on_datagram = on_datagram;
    Py_INCREF(on_plain); self->on_plain = on_plain;
    Py_INCREF(on_error); self->on_error = on_error;
    self->fd = fd;
    if (self->buffer == NULL) {
        self->buffer = PyMem_Malloc(PACKET_MAX);
        if (self->buffer == NULL) { PyErr_NoMemory(); return -1; }
    }
    return 0;
}

/* At most this many datagrams a readiness callback, so that one busy socket cannot
 * keep the event loop from everything else. */
#define READS_PER_CALLBACK 64

/* The event loop's reader callback: every datagram waiting on the socket. Media from
 * the nominated peer goes through Inlet's take; anything else (STUN, DTLS, SRTCP, other
 * addresses, empty datagrams) to on_datagram, as asyncio would have handed it over. */
static PyObject *Reader_read_ready(Reader *self, PyObject *unused) {
    for (int i = 0; i < READS_PER_CALLBACK; i++) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        ssize_t n = recvfrom(self->fd, self->buffer, PACKET_MAX, MSG_DONTWAIT,
                             (struct sockaddr *)&from, &from_len);
        if (n < 0) {
            /* EBADF: the transport closed the socket meanwhile; nothing more to read */
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == EBADF)
                break;
            PyObject *res = PyObject_CallFunction(self->on_error, "i", errno);
            if (res == NULL) return NULL;
            Py_DECREF(res);
            break;
        }
        self->datagrams += 1;
        int plain_len = 0;
        int taken = TAKE_NOT_OURS;
        if (n > 0 && same_address(&from, &self->peer))
            taken = take(self->inlet, self->buffer, n, &plain_len);
        if (taken == TAKE_ERROR) return NULL;
        if (taken == TAKE_DONE) continue;
        PyObject *res;
        if (taken == TAKE_PLAIN) {
            res = PyObject_CallFunction(self->on_plain, "y#", self->inlet->buffer,
                                        (Py_ssize_t)plain_len);
        } else {
            PyObject *addr = address_tuple(&from);
            if (addr == NULL) return NULL;
            res = PyObject_CallFunction(self->on_datagram, "y#O", self->buffer, (Py_ssize_t)n,
                                        addr);
            Py_DECREF(addr);
        }
        if (res == NULL) return NULL;
        Py_DECREF(res);
    }
    Py_RETURN_NONE;
}

static PyMemberDef Reader_members[] = {
    {"fd", T_INT, offsetof(Reader, fd), READONLY, "the socket read"},
    {"datagrams", T_LONGLONG, offsetof(Reader, datagrams), READONLY, "datagrams read"},
    {NULL},
};

static PyMethodDef Reader_methods[] = {
    {"read_ready", (PyCFunction)Reader_read_ready, METH_NOARGS,
     "The event loop's callback when the socket is readable."},
    {NULL},
};

static PyTypeObject ReaderType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.relay._fastpath.Reader",
    .tp_doc = "Reads the nominated pair's socket: media through an Inlet, the rest to Python.",
    .tp_basicsize = sizeof(Reader),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Reader_init,
    .tp_dealloc = (destructor)Reader_dealloc,
    .tp_traverse = (traverseproc)Reader_traverse,
    .tp_clear = (inquiry)Reader_clear,
    .tp_members = Reader_members,
    .tp_methods = Reader_methods,
};

static PyMemberDef Inlet_members[] = {
    {"taken", T_LONGLONG, offsetof(Inlet, taken), READONLY, "packets forwarded in C"},
    {NULL},
};

static PyMethodDef Inlet_methods[] = {
    {"add", (PyCFunction)Inlet_add, METH_VARARGS, "add(ssrc, route)"},
    {"take", (PyCFunction)Inlet_take, METH_O,
     "take(datagram) -> None (aiortc's), True (done) or the plain RTP packet (Python's)"},
    {NULL},
};

static PyTypeObject InletType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "media.relay._fastpath.Inlet",
    .tp_doc = "The receive side of one publisher's DTLS transport.",
    .tp_basicsize = sizeof(Inlet),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Inlet_init,
    .tp_dealloc = (destructor)Inlet_dealloc,
    .tp_traverse = (traverseproc)Inlet_traverse,
    .tp_clear = (inquiry)Inlet_clear,
    .tp_members = Inlet_members,
    .tp_methods = Inlet_methods,
};

/* ------------------------------------------------------------------------------ */

static PyObject *fastpath_build_header(PyObject *mod, PyObject *args) {
    /* For tests: the header an outlet writes, beside aiortc's RtpPacket.serialize. */
    unsigned int ssrc, ts, abs;
    int pt, mid_id, abs_id;
    const char *mid;
    Py_ssize_t mid_len;
    if (!PyArg_ParseTuple(args, "IiIz#iiI", &ssrc, &pt, &ts, &mid, &mid_len, &mid_id, &abs_id,
                          &abs))
        return NULL;
    Outlet o;
    memset(&o, 0, sizeof(o));
    o.ssrc = ssrc;
    o.payload_type = (uint8_t)pt;
    o.mid_id = mid_id;
    o.abs_id = abs_id;
    if (mid == NULL) mid_len = 0;
    if (mid_len > 16) { PyErr_SetString(PyExc_ValueError, "mid too long"); return NULL; }
    memcpy(o.mid, mid ? mid : "", (size_t)mid_len);
    o.mid_len = (int)mid_len;
    int len = build_header(&o, ts, abs);
    return PyBytes_FromStringAndSize((const char *)o.header, len);
}

static PyMethodDef fastpath_methods[] = {
    {"build_header", fastpath_build_header, METH_VARARGS,
     "build_header(ssrc, payload_type, timestamp, mid, mid_id, abs_id, abs_send_time)"},
    {NULL},
};

static struct PyModuleDef fastpath_module = {
    PyModuleDef_HEAD_INIT, "media.relay._fastpath",
    "The relay's per-packet path in C (see media/relay/_fastpath.c).", -1, fastpath_methods,
};

#define INTERN(var, text) \
    if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC PyInit__fastpath(void) {
    INTERN(s_state, "_state");
    INTERN(s_enabled, "_enabled");
    INTERN(s_rx_bytes, "_RTCDtlsTransport__rx_bytes");
    INTERN(s_rx_packets, "_RTCDtlsTransport__rx_packets");
    INTERN(s_tx_bytes, "_RTCDtlsTransport__tx_bytes");
    INTERN(s_tx_packets, "_RTCDtlsTransport__tx_packets");
    INTERN(s_octet_count, "_RTCRtpSender__octet_count");
    INTERN(s_packet_count, "_RTCRtpSender__packet_count");
    INTERN(s_ntp_timestamp, "_RTCRtpSender__ntp_timestamp");
    INTERN(s_rtp_timestamp, "_RTCRtpSender__rtp_timestamp");
    INTERN(s_packets_received, "packets_received");
    INTERN(s_base_seq, "base_seq");
    INTERN(s_max_seq, "max_seq");
    INTERN(s_cycles, "cycles");
    INTERN(s_jitter_q4, "_jitter_q4");
    INTERN(s_last_arrival, "_last_arrival");
    INTERN(s_last_timestamp, "_last_timestamp");
    INTERN(s_missing, "missing");
    INTERN(s_frames_in, "frames_in");
    INTERN(s_packets_forwarded, "packets_forwarded");
    INTERN(s_frames_forwarded, "frames_forwarded");
    INTERN(s_dropped_slow, "packets_dropped_slow_subscriber");
    if (PyType_Ready(&OutletType) < 0 || PyType_Ready(&RouteType) < 0 ||
        PyType_Ready(&InletType) < 0 || PyType_Ready(&ReaderType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&fastpath_module);
    if (m == NULL) return NULL;
    Py_INCREF(&OutletType);
    Py_INCREF(&RouteType);
    Py_INCREF(&InletType);
    Py_INCREF(&ReaderType);
    if (PyModule_AddObject(m, "Reader", (PyObject *)&ReaderType) < 0 ||
        PyModule_AddObject(m, "Outlet", (PyObject *)&OutletType) < 0 ||
        PyModule_AddObject(m, "Route", (PyObject *)&RouteType) < 0 ||
        PyModule_AddObject(m, "Inlet", (PyObject *)&InletType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
