package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// countSyncs replaces syncFile for the test: every fsync is counted and
// then handed to fn (the real one when fn is nil).
func countSyncs(t *testing.T, fn func(*os.File) error) *int {
	t.Helper()
	var mu sync.Mutex
	n := new(int)
	real := syncFile
	syncFile = func(f *os.File) error {
		mu.Lock()
		*n++
		mu.Unlock()
		if fn != nil {
			return fn(f)
		}
		return real(f)
	}
	t.Cleanup(func() { syncFile = real })
	return n
}

func fsyncOptions() Options {
	o := testOptions()
	o.Fsync = true
	return o
}

// A query costs one fsync: query_start is written (the write proves the
// log takes records) and made durable by the query record's fsync.
func TestQueryStartIsWrittenAndSyncedWithTheQuery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	syncs := countSyncs(t, nil) // before openLog: its cleanup runs after Close
	l := openLog(t, path, fsyncOptions())
	if err := l.Write(Event{Type: EventQueryStart, Command: "chat", Success: true}); err != nil {
		t.Fatal(err)
	}
	if *syncs != 0 {
		t.Fatalf("query_start waited for %d fsyncs, want none", *syncs)
	}
	if res, err := Verify(path); err != nil || res.Lines != 1 {
		t.Fatalf("query_start is not in the file before the query is sent: %+v %v", res, err)
	}
	if err := l.Write(queryEvent(1)); err != nil {
		t.Fatal(err)
	}
	if *syncs != 1 {
		t.Fatalf("query record: %d fsyncs, want 1", *syncs)
	}
	if l.synced.Load() != 2 {
		t.Fatalf("after the query record's fsync %d of 2 lines are durable", l.synced.Load())
	}
	// Nothing left to flush: Close adds no fsync.
	if err := l.Close(); err != nil || *syncs != 1 {
		t.Fatalf("Close: %v, %d fsyncs", err, *syncs)
	}
}

// A query_start left alone (the process ends before the query record) is
// made durable by Close.
func TestCloseSyncsAPendingQueryStart(t *testing.T) {
	syncs := countSyncs(t, nil)
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), fsyncOptions())
	if err := l.Write(Event{Type: EventQueryStart, Command: "chat", Success: true}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil || *syncs != 1 {
		t.Fatalf("Close: %v, %d fsyncs, want 1", err, *syncs)
	}
}

// Writers that arrive during an fsync share the next one: eight
// concurrent records cost two fsyncs, and each Write returns only once
// its own line is durable.
func TestGroupCommit(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), fsyncOptions())
	const writers = 8
	first := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	syncs := countSyncs(t, func(f *os.File) error {
		once.Do(func() { close(first); <-release })
		return f.Sync()
	})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	wg.Add(1)
	go func() { defer wg.Done(); errs <- l.Write(queryEvent(0)) }()
	<-first // writer 0 holds the first fsync, covering its line only
	for i := 1; i < writers; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- l.Write(queryEvent(i)) }()
	}
	for { // the others have appended and wait for an fsync
		l.mu.Lock()
		n := l.appended
		l.mu.Unlock()
		if n == writers {
			break
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if *syncs != 2 {
		t.Fatalf("%d writers took %d fsyncs, want 2 (one running, one shared by the rest)", writers, *syncs)
	}
	if l.synced.Load() != writers {
		t.Fatalf("%d of %d lines durable", l.synced.Load(), writers)
	}
}

// A failed fsync fails the Write that waited for it, so the engine
// withholds the answer (or refuses) as for a failed write.
func TestFailedFsyncFailsTheWrite(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), fsyncOptions())
	countSyncs(t, func(*os.File) error { return syscall.EIO })
	err := l.Write(queryEvent(1))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("Write with a failing fsync: %v, want EIO", err)
	}
	// Still not durable, so the next record tries again and fails again.
	if err := l.Write(queryEvent(2)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("second Write: %v, want EIO", err)
	}
}

// Rotation flushes lines waiting for a shared fsync before the file is
// renamed, so no line of the old file is left unsynced.
func TestRotationFlushesPendingLines(t *testing.T) {
	o := fsyncOptions()
	o.MaxBytes = 900
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), o)
	for i := 0; i < 12; i++ {
		if err := l.Write(Event{Type: EventQueryStart, Command: "chat", Success: true}); err != nil {
			t.Fatal(err)
		}
	}
	if l.synced.Load() == 0 {
		t.Fatal("no rotation happened, or it did not flush the old file")
	}
	rotated, err := rotatedFiles(l.path)
	if err != nil || len(rotated) == 0 {
		t.Fatalf("no rotated file: %v", err)
	}
}

// waitFor polls cond; the deadline only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func backgroundOptions() Options {
	o := fsyncOptions()
	o.BackgroundSync = true
	return o
}

// With BackgroundSync, Write returns while the fsync is still running, and
// the flusher makes every line durable.
func TestBackgroundSyncReturnsBeforeTheFsync(t *testing.T) {
	release := make(chan struct{})
	countSyncs(t, func(f *os.File) error {
		<-release
		return f.Sync()
	})
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), backgroundOptions())
	for i := 0; i < 5; i++ { // would hang on the blocked fsync if Write waited for it
		if err := l.Write(queryEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if l.synced.Load() != 0 {
		t.Fatalf("%d lines durable while the fsync is blocked", l.synced.Load())
	}
	close(release)
	waitFor(t, "the flusher to make 5 lines durable", func() bool { return l.synced.Load() == 5 })
}

// A failed background fsync refuses the next Write, before it writes
// anything, until an fsync succeeds again.
func TestBackgroundSyncFailureRefusesTheNextWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	var mu sync.Mutex
	failing := true
	countSyncs(t, func(f *os.File) error {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			return syscall.EIO
		}
		return f.Sync()
	})
	l := openLog(t, path, backgroundOptions())
	if err := l.Write(queryEvent(1)); err != nil {
		t.Fatalf("the write itself succeeds: %v", err)
	}
	waitFor(t, "the background fsync to fail", func() bool { return l.bgErr.Load() != nil })
	err := l.Write(Event{Type: EventQueryStart, Command: "chat", Success: true})
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("query_start after a failed fsync: %v, want EIO (refused)", err)
	}
	if res, err := Verify(path); err != nil || res.Lines != 1 {
		t.Fatalf("the refused record was written: %+v %v", res, err)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	if err := l.Write(Event{Type: EventQueryStart, Command: "chat", Success: true}); err != nil {
		t.Fatalf("after the disk recovered: %v", err)
	}
	if l.bgErr.Load() != nil || l.synced.Load() < 1 {
		t.Fatalf("recovery not recorded: synced %d", l.synced.Load())
	}
}

// Close stops the flusher and leaves nothing unsynced.
func TestBackgroundSyncClose(t *testing.T) {
	l := openLog(t, filepath.Join(t.TempDir(), "audit.log"), backgroundOptions())
	writeN(t, l, 0, 20)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.synced.Load() != 20 {
		t.Fatalf("%d of 20 lines durable after Close", l.synced.Load())
	}
}

// BenchmarkQueryRecords measures what one query costs the log: its
// query_start and its query record, as the engine writes them.
func BenchmarkQueryRecords(b *testing.B) {
	for _, background := range []bool{false, true} {
		b.Run(fmt.Sprintf("background=%v", background), func(b *testing.B) {
			o := testOptions()
			o.Fsync, o.BackgroundSync = true, background
			o.Key = bytes.Repeat([]byte{7}, 32)
			l := openLog(b, filepath.Join(b.TempDir(), "audit.log"), o)
			start := Event{Type: EventQueryStart, Command: "chat", Success: true}
			ev := queryEvent(1)
			b.ReportAllocs()
			for b.Loop() {
				if err := l.Write(start); err != nil {
					b.Fatal(err)
				}
				if err := l.Write(ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
