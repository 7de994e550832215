/* The gateway's per-position work in C: the 0x0200 fast path (fastpath.FastPositions.take)
 * and the 0x8001 reply frame (session.Session._reply).
 *
 * The same decisions as the Python code they stand in for, byte for byte; that code stays the
 * reference and the fallback (tests/unit/jt808/test_fast_c.py compares the two on generated
 * and corrupted frames). Every read is bounds-checked against the frame's length: the bytes
 * come from any TCP peer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MIN_FRAME 13                       /* framing.MIN_FRAME */
#define MAX_FRAME (12 + 1 + 17 + 1023 + 8) /* framing.MAX_FRAME */
#define BASIC 28                           /* location.BASIC */
#define STATUS_LOCATED (1u << 1)
#define STATUS_SOUTH (1u << 2)
#define STATUS_WEST (1u << 3)
#define CLEAR_ON_ACK ((1u << 20) | (1u << 21) | (1u << 22) | (1u << 28) | (1u << 31))
#define CLOCK_TOLERANCE_MS (5LL * 60 * 1000)       /* location.CLOCK_TOLERANCE_MS */
#define MAX_AGE_MS (30LL * 24 * 3600 * 1000)       /* location.MAX_AGE_MS */
#define RECORD_PARTS 512                          /* head and tail of a record's JSON, at most */
/* lat/lon below this many millionths are written by msgspec in exponent form (1e-6): the fast
 * path leaves them to the general path (fastpath.TINY_MICRODEG) */
#define TINY_MICRODEG 100

static inline unsigned u16(const unsigned char *p) { return ((unsigned)p[0] << 8) | p[1]; }
static inline uint32_t u32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline int digits(unsigned b) { return (b >> 4) <= 9 && (b & 0xF) <= 9; }
static inline int bcd(unsigned b) { return (int)(b >> 4) * 10 + (int)(b & 0xF); }

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153u * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (long long)era * 146097 + (long long)doe - 719468;
}

static int month_days(int y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 ? 28 + leap : days[m - 1];
}

/* bcdtime.bcd_time_ms: 0 and *ok = 0 when the six bytes are not a time. */
static long long bcd_time_ms(const unsigned char *t, long long offset_s, int *ok) {
    *ok = 0;
    for (int i = 0; i < 4; i++)
        if (!digits(t[i])) return 0;
    int yy = bcd(t[0]), mo = bcd(t[1]), dd = bcd(t[2]), hh = bcd(t[3]);
    if (mo < 1 || mo > 12 || dd < 1 || dd > month_days(2000 + yy, mo) || hh > 23) return 0;
    unsigned mi = t[4], ss = t[5];
    if (mi > 0x59 || ss > 0x59 || (mi & 0xF) > 9 || (ss & 0xF) > 9) return 0;
    *ok = 1;
    long long s = days_from_civil(2000 + yy, mo, dd) * 86400LL + hh * 3600LL +
                  (mi >> 4) * 600LL + (mi & 0xF) * 60LL + (ss >> 4) * 10LL + (ss & 0xF);
    return (s - offset_s) * 1000LL;
}

/* framing.verify for a raw frame holding 0x7d: unescaped header + body into out, or -1. */
static Py_ssize_t unescape_verify(const unsigned char *raw, Py_ssize_t len, unsigned char *out) {
    if (len > 2 * MAX_FRAME) return -1;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        unsigned char c = raw[i];
        if (c == 0x7e) return -1;
        if (c == 0x7d) {
            if (i + 1 >= len) return -1;
            unsigned char e = raw[++i];
            if (e == 0x01) c = 0x7d;
            else if (e == 0x02) c = 0x7e;
            else return -1;
        }
        out[n++] = c;
    }
    if (n < MIN_FRAME || n > MAX_FRAME) return -1;
    unsigned char x = 0;
    for (Py_ssize_t i = 0; i < n - 1; i++) x ^= out[i];
    if (x != out[n - 1]) return -1;
    return n - 1;
}

typedef struct {
    PyObject_HEAD
    Py_ssize_t hlen;           /* 12 (2013) or 17 (2019) */
    unsigned flag;             /* the attributes' version bit: 0 or 0x4000 */
    unsigned char ident[11];   /* (protocol version and) BCD phone, as the header holds them */
    Py_ssize_t ident_len;
    long long offset_s;        /* the terminal's zone */
    unsigned char alarm_items[32]; /* bit set: 苏标 items (the general path makes their events) */
    PyObject *head;            /* bytes: the record's JSON up to the value of "ts" */
    PyObject *tail;            /* bytes: the record's JSON after "mileage_km" (shared) */
} Positions;

static void Positions_dealloc(Positions *self) {
    Py_XDECREF(self->head);
    Py_XDECREF(self->tail);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Positions_init(Positions *self, PyObject *args, PyObject *kw) {
    static char *names[] = {"hlen", "flag", "ident", "offset_s", "alarm_items", "head", "tail",
                            NULL};
    Py_ssize_t hlen;
    unsigned int flag;
    Py_buffer ident;
    long long offset_s;
    PyObject *items;
    PyObject *head, *tail;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "nIy*LOSS", names, &hlen, &flag, &ident,
                                     &offset_s, &items, &head, &tail))
        return -1;
    if (PyBytes_GET_SIZE(head) > RECORD_PARTS || PyBytes_GET_SIZE(tail) > RECORD_PARTS) {
        PyBuffer_Release(&ident);
        PyErr_SetString(PyExc_ValueError, "record head or tail too long");
        return -1;
    }
    Py_XSETREF(self->head, Py_NewRef(head));
    Py_XSETREF(self->tail, Py_NewRef(tail));
    if ((hlen != 12 && hlen != 17) || ident.len != hlen - 6) {
        PyBuffer_Release(&ident);
        PyErr_SetString(PyExc_ValueError, "hlen 12 with a 6-byte ident or 17 with 11 bytes");
        return -1;
    }
    if (offset_s < -86400 || offset_s > 86400) { /* the catalog allows -12 h to +14 h */
        PyBuffer_Release(&ident);
        PyErr_SetString(PyExc_ValueError, "offset_s beyond a day");
        return -1;
    }
    self->hlen = hlen;
    self->flag = flag;
    memcpy(self->ident, ident.buf, (size_t)ident.len);
    self->ident_len = ident.len;
    PyBuffer_Release(&ident);
    self->offset_s = offset_s;
    memset(self->alarm_items, 0, sizeof self->alarm_items);
    PyObject *it = PyObject_GetIter(items);
    if (it == NULL) return -1;
    PyObject *v;
    while ((v = PyIter_Next(it)) != NULL) {
        long item = PyLong_AsLong(v);
        Py_DECREF(v);
        if (item < 0 || item > 255) {
            Py_DECREF(it);
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "an item id is a byte");
            return -1;
        }
        self->alarm_items[item >> 3] |= (unsigned char)(1u << (item & 7));
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

/* n / 10^decimals as msgspec writes that float (the shortest form that reads back: the
 * digits with trailing zeros dropped, one decimal at least), e.g. 40123456/10^6 → 40.123456 */
static char *put_decimal(char *o, int negative, unsigned long long n, int decimals) {
    static const unsigned long long pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
    unsigned long long whole = n / pow10[decimals], frac = n % pow10[decimals];
    if (negative) *o++ = '-';
    o += sprintf(o, "%llu", whole);
    *o++ = '.';
    char digits[8];
    int k = decimals;
    for (int i = decimals - 1; i >= 0; i--) { digits[i] = (char)('0' + frac % 10); frac /= 10; }
    while (k > 1 && digits[k - 1] == '0') k--;
    memcpy(o, digits, (size_t)k);
    return o + k;
}

/* FastPositions.decode on header + body data[:n]: a tuple, or None for the general path. */
static PyObject *decode(Positions *self, const unsigned char *d, Py_ssize_t n, long long now_ms) {
    Py_ssize_t h = self->hlen;
    if (n < h + BASIC) Py_RETURN_NONE;
    unsigned mid = u16(d), attrs = u16(d + 2);
    if (mid != 0x0200 || (attrs & 0xFC00) != self->flag || n != h + (Py_ssize_t)(attrs & 0x3FF))
        Py_RETURN_NONE;
    if (memcmp(d + 4, self->ident, (size_t)self->ident_len) != 0) Py_RETURN_NONE;
    unsigned serial = u16(d + h - 2);
    const unsigned char *b = d + h;
    uint32_t alarm = u32(b), status = u32(b + 4), lat_u = u32(b + 8), lon_u = u32(b + 12);
    int alt = (int16_t)u16(b + 16);
    unsigned speed = u16(b + 18), heading = u16(b + 20);
    if ((alarm & CLEAR_ON_ACK) || !(status & STATUS_LOCATED) || heading > 359) Py_RETURN_NONE;
    int ok;
    long long ts = bcd_time_ms(b + 22, self->offset_s, &ok);
    if (!ok || ts > now_ms + CLOCK_TOLERANCE_MS || ts < now_ms - MAX_AGE_MS) Py_RETURN_NONE;
    double lat = (double)lat_u / 1e6, lon = (double)lon_u / 1e6;
    if (status & STATUS_SOUTH) lat = -lat;
    if (status & STATUS_WEST) lon = -lon;
    if (lat > 90 || lat < -90 || lon > 180 || lon < -180) Py_RETURN_NONE;
    if ((lat_u > 0 && lat_u < TINY_MICRODEG) || (lon_u > 0 && lon_u < TINY_MICRODEG))
        Py_RETURN_NONE;
    long long mileage = -1; /* item 0x01: the last well-formed one */
    Py_ssize_t pos = h + BASIC;
    while (pos + 2 <= n) {
        unsigned item = d[pos], size = d[pos + 1];
        Py_ssize_t end = pos + 2 + (Py_ssize_t)size;
        if (end > n) break;
        if (item == 0x01) {
            if (size == 4) mileage = u32(d + pos + 2);
        } else if (self->alarm_items[item >> 3] & (1u << (item & 7))) {
            Py_RETURN_NONE;
        }
        pos = end;
    }
    /* the PositionRecord's JSON, as msgspec encodes it (records.encode) */
    char rec[2 * RECORD_PARTS + 512], *o = rec;
    memcpy(o, PyBytes_AS_STRING(self->head), (size_t)PyBytes_GET_SIZE(self->head));
    o += PyBytes_GET_SIZE(self->head);
    o += sprintf(o, "%lld,\"lat\":", ts);
    o = put_decimal(o, (status & STATUS_SOUTH) != 0, lat_u, 6);
    o += sprintf(o, ",\"lon\":");
    o = put_decimal(o, (status & STATUS_WEST) != 0, lon_u, 6);
    o += sprintf(o, ",\"speed_kmh\":");
    o = put_decimal(o, 0, speed, 1);
    o += sprintf(o, ",\"heading\":%u.0,\"received_at\":%lld,\"alt_m\":%d.0,"
                 "\"alarm_flags\":%lu,\"status_flags\":%lu,\"mileage_km\":", heading, now_ms,
                 alt, (unsigned long)alarm, (unsigned long)status);
    if (mileage < 0) {
        memcpy(o, "null", 4);
        o += 4;
    } else {
        o = put_decimal(o, 0, (unsigned long long)mileage, 1);
    }
    memcpy(o, PyBytes_AS_STRING(self->tail), (size_t)PyBytes_GET_SIZE(self->tail));
    o += PyBytes_GET_SIZE(self->tail);
    return Py_BuildValue("(ILy#y#)", serial, ts, (const char *)b, n - h, rec, (Py_ssize_t)(o - rec));
}

static PyObject *Positions_take(Positions *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "take(raw: bytes, now_ms: int)");
        return NULL;
    }
    if (self->hlen == 0 || self->head == NULL || self->tail == NULL) { /* no __init__ */
        PyErr_SetString(PyExc_TypeError, "Positions not initialised");
        return NULL;
    }
    long long now_ms = PyLong_AsLongLong(args[1]);
    if (now_ms == -1 && PyErr_Occurred()) return NULL;
    if (now_ms < 0 || now_ms > 32503680000000LL) { /* before 1970 or after 3000: no clock */
        PyErr_SetString(PyExc_ValueError, "now_ms out of range");
        return NULL;
    }
    const unsigned char *raw = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    Py_ssize_t len = PyBytes_GET_SIZE(args[0]);
    if (memchr(raw, 0x7d, (size_t)len) != NULL) {
        unsigned char buf[2 * MAX_FRAME];
        Py_ssize_t n = unescape_verify(raw, len, buf);
        if (n < 0) Py_RETURN_NONE;
        return decode(self, buf, n, now_ms);
    }
    if (len < 1) Py_RETURN_NONE;
    unsigned char x = 0;
    for (Py_ssize_t i = 0; i < len; i++) x ^= raw[i];
    if (x != 0) Py_RETURN_NONE;
    return decode(self, raw, len - 1, now_ms);
}

static PyMethodDef Positions_methods[] = {
    {"take", (PyCFunction)(void (*)(void))Positions_take, METH_FASTCALL,
     "(serial, ts, body, record JSON) of a plain valid 0x0200 frame (raw, between flags); "
     "None when the general path must decode it."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PositionsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hazardwatch.ingest.jt808._fast.Positions",
    .tp_basicsize = sizeof(Positions),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The 0x0200 fast path of one terminal's header (see fastpath.FastPositions).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Positions_init,
    .tp_dealloc = (destructor)Positions_dealloc,
    .tp_methods = Positions_methods,
};

/* reply(head, head_xor, serial, their, msg_id, result): the escaped 0x8001 frame. */
static PyObject *reply(PyObject *mod, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6 || !PyBytes_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError,
                        "reply(head: bytes, head_xor, serial, their, msg_id, result)");
        return NULL;
    }
    long v[5];
    for (int i = 0; i < 5; i++) {
        v[i] = PyLong_AsLong(args[i + 1]);
        if (v[i] == -1 && PyErr_Occurred()) return NULL;
        if (v[i] < 0 || v[i] > (i == 0 || i == 4 ? 0xFF : 0xFFFF)) {
            PyErr_SetString(PyExc_ValueError, "reply field out of range");
            return NULL;
        }
    }
    Py_ssize_t hl = PyBytes_GET_SIZE(args[0]);
    if (hl > 64) {
        PyErr_SetString(PyExc_ValueError, "reply head longer than a header");
        return NULL;
    }
    unsigned char p[64 + 8], out[2 * (64 + 8) + 2];
    memcpy(p, PyBytes_AS_STRING(args[0]), (size_t)hl);
    unsigned char *t = p + hl;
    t[0] = (unsigned char)(v[1] >> 8); t[1] = (unsigned char)v[1];
    t[2] = (unsigned char)(v[2] >> 8); t[3] = (unsigned char)v[2];
    t[4] = (unsigned char)(v[3] >> 8); t[5] = (unsigned char)v[3];
    t[6] = (unsigned char)v[4];
    unsigned char check = (unsigned char)v[0];
    for (int i = 0; i < 7; i++) check ^= t[i];
    t[7] = check;
    Py_ssize_t n = 0;
    out[n++] = 0x7e;
    for (Py_ssize_t i = 0; i < hl + 8; i++) {
        unsigned char c = p[i];
        if (c == 0x7e) { out[n++] = 0x7d; out[n++] = 0x02; }
        else if (c == 0x7d) { out[n++] = 0x7d; out[n++] = 0x01; }
        else out[n++] = c;
    }
    out[n++] = 0x7e;
    return PyBytes_FromStringAndSize((const char *)out, n);
}

static PyMethodDef module_methods[] = {
    {"reply", (PyCFunction)(void (*)(void))reply, METH_FASTCALL,
     "The escaped 0x8001 frame: the cached head (its XOR given), then the serials, the "
     "message id, the result and the check code."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fast",
    "The JT/T 808 gateway's per-position work in C (fastpath.py and session.py fall back to "
    "their Python code without it).", -1, module_methods,
};

PyMODINIT_FUNC PyInit__fast(void) {
    if (PyType_Ready(&PositionsType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Positions", (PyObject *)&PositionsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
