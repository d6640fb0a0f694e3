/* lmdb_raw.c: the store microbenchmark's baseline (make bench). Raw liblmdb calls doing the
 * same transactions as Idem's LMDBStore (Sources/LMDBStore/LMDBStore+Records.swift), with the
 * same environment flags (MDB_NOSUBDIR | MDB_NOTLS, plus the durability flag), two named
 * databases and values of the same sizes as the probe's records:
 *
 *   claim:    write txn { get record (absent); put record (148 B); put expiry key (41 B, empty) }
 *   complete: write txn { get record; put record (394 B: 201, one header, 200-byte body);
 *                         put expiry key }
 *   lookup:   read txn  { get record; copy it out }
 *
 * Keys are 0x01 ‖ 32 bytes (as SHA-256 would give: a counter hashed by splitmix64).
 *
 *   cc -O2 -o lmdb_raw lmdb_raw.c -llmdb
 *   ./lmdb_raw FILE COUNT full|metaAsync|noSync [LOOKUPS]
 * prints: <mode>: <µs> µs per claim+complete (<n> ops), <µs> µs per lookup (<n> ops)
 */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(call) do { int rc_ = (call); if (rc_) { \
    fprintf(stderr, "%s: %s\n", #call, mdb_strerror(rc_)); exit(2); } } while (0)

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void make_key(uint64_t seed, uint64_t i, unsigned char key[33]) {
    uint64_t s = seed ^ (i * 0x2545F4914F6CDD1DULL);
    key[0] = 0x01;
    for (int w = 0; w < 4; w++) { uint64_t v = splitmix(&s); memcpy(key + 1 + 8 * w, &v, 8); }
}

static void expiry_key(int64_t expires, const unsigned char key[33], unsigned char out[41]) {
    uint64_t biased = (uint64_t)expires ^ (1ULL << 63);
    for (int b = 0; b < 8; b++) out[b] = (unsigned char)(biased >> (56 - 8 * b));
    memcpy(out + 8, key, 33);
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s FILE COUNT full|metaAsync|noSync [LOOKUPS]\n", argv[0]); return 64; }
    long count = atol(argv[2]);
    long lookups = argc > 4 ? atol(argv[4]) : 100000;
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS;
    if (!strcmp(argv[3], "metaAsync")) flags |= MDB_NOMETASYNC;
    else if (!strcmp(argv[3], "noSync")) flags |= MDB_NOSYNC;
    else if (strcmp(argv[3], "full")) { fprintf(stderr, "unknown mode %s\n", argv[3]); return 64; }
    if (count < 1) return 64;

    MDB_env *env;
    CHECK(mdb_env_create(&env));
    CHECK(mdb_env_set_mapsize(env, (size_t)1 << 30));
    CHECK(mdb_env_set_maxreaders(env, 126));
    CHECK(mdb_env_set_maxdbs(env, 3));
    CHECK(mdb_env_open(env, argv[1], flags, 0600));
    MDB_txn *txn;
    MDB_dbi records, expiry;
    CHECK(mdb_txn_begin(env, NULL, 0, &txn));
    CHECK(mdb_dbi_open(txn, "records", MDB_CREATE, &records));
    CHECK(mdb_dbi_open(txn, "expiry", MDB_CREATE, &expiry));
    CHECK(mdb_txn_commit(txn));

    unsigned char claim[148], done[394], key[33], ekey[41];
    memset(claim, 0x42, sizeof claim);
    memset(done, 0x61, sizeof done);
    uint64_t seed = (uint64_t)now_us();
    int64_t expires = (int64_t)(now_us() / 1000) + 86400000;

    double start = now_us();
    for (long i = 0; i < count; i++) {
        make_key(seed, (uint64_t)i, key);
        expiry_key(expires, key, ekey);
        MDB_val k = {33, key}, v, ek = {41, ekey}, empty = {0, ekey};
        /* claim */
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        int rc = mdb_get(txn, records, &k, &v);
        if (rc != MDB_NOTFOUND) CHECK(rc);
        v.mv_size = sizeof claim; v.mv_data = claim;
        CHECK(mdb_put(txn, records, &k, &v, 0));
        CHECK(mdb_put(txn, expiry, &ek, &empty, 0));
        CHECK(mdb_txn_commit(txn));
        /* complete */
        CHECK(mdb_txn_begin(env, NULL, 0, &txn));
        CHECK(mdb_get(txn, records, &k, &v));
        if (v.mv_size != sizeof claim) { fprintf(stderr, "wrong record\n"); return 2; }
        v.mv_size = sizeof done; v.mv_data = done;
        CHECK(mdb_put(txn, records, &k, &v, 0));
        CHECK(mdb_put(txn, expiry, &ek, &empty, 0));
        CHECK(mdb_txn_commit(txn));
    }
    double write_us = (now_us() - start) / count;

    unsigned char *copy = malloc(4096);
    uint64_t pick = seed;
    start = now_us();
    for (long i = 0; i < lookups; i++) {
        make_key(seed, splitmix(&pick) % (uint64_t)count, key);
        MDB_val k = {33, key}, v;
        CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
        CHECK(mdb_get(txn, records, &k, &v));
        memcpy(copy, v.mv_data, v.mv_size);
        mdb_txn_abort(txn);
    }
    double read_us = (now_us() - start) / lookups;
    printf("%s: %.1f µs per claim+complete (%ld ops), %.2f µs per lookup (%ld ops)\n",
           argv[3], write_us, count, read_us, lookups);
    free(copy);
    mdb_env_close(env);
    return 0;
}
