#include <hiredis/hiredis.h>

/* redisCommandArgv is callable from Swift; these read the reply without touching unions. */
static inline int idem_redis_reply_type(const redisReply *r) { return r ? r->type : -1; }
