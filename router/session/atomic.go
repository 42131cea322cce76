package session

import "sync/atomic"

// atomicInt64 holds a session's last-use time in Unix nanoseconds; the
// store reads it under its own lock while the session may be busy.
type atomicInt64 = atomic.Int64
