// Tests of the C# binding, run with Mono by CTest: round trips, errors with
// their codes, loans ending in Dispose, ReadAsync, and frames from a C
// writer process (frame_writer, whose path is the first argument). Prints
// each failed check; exits 1 if any failed.
using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Mmpool;

static class TestMmpool
{
    static int failures;
    static string writerPath;

    static void Check(bool ok, string what)
    {
        if (!ok)
        {
            Console.Error.WriteLine("check failed: " + what);
            failures++;
        }
    }

    static void Throws(Action action, ErrorCode want, string what)
    {
        try
        {
            action();
            Console.Error.WriteLine(what + ": threw nothing, expected " + want);
            failures++;
        }
        catch (MmpoolException e)
        {
            if (e.Code != (int)want)
            {
                Console.Error.WriteLine(what + ": threw " + e.Name + ", expected " + want);
                failures++;
            }
        }
    }

    // A pool name of its own for each test; Pool.Unlink it at the end.
    static string NewName(string tag)
    {
        return "mmpool-cs-" + tag + "-" + Process.GetCurrentProcess().Id + "-" + Pool.NowNs();
    }

    static void Remove(string name)
    {
        try { Pool.Unlink(name); } catch (MmpoolException) { }
    }

    static Pool CreateExcl(string name, ulong cap, uint count, ReadMode mode = ReadMode.Latest, string format = null)
    {
        return Pool.Open(name, new PoolOptions {
            SlotCapacity = cap, SlotCount = count, Create = true, Exclusive = true,
            ReadMode = mode, Format = format
        });
    }

    static bool Same(ReadOnlySpan<byte> a, byte[] b)
    {
        return a.SequenceEqual(new ReadOnlySpan<byte>(b));
    }

    static void CopyRoundTripKeepsBytesAndMetadata()
    {
        string name = NewName("roundtrip");
        try
        {
            using (var writer = CreateExcl(name, 4096, 3, ReadMode.Latest, "text"))
            using (var reader = Pool.Open(name))
            {
                byte[] msg = { 1, 2, 3, 4, 5 };
                ulong before = Pool.NowNs();
                writer.Write(msg, 1000);
                var buf = new byte[64];
                FrameInfo f = reader.Read(new Span<byte>(buf), 1000);
                Check(f.Seq == 1 && f.Length == 5 && f.Dropped == 0, "metadata of the first frame");
                Check(f.TimestampNs >= before && f.TimestampNs <= Pool.NowNs(), "timestamp on the clock of NowNs");
                Check(Same(new ReadOnlySpan<byte>(buf, 0, 5), msg), "bytes read back");

                Check(writer.TryWrite(new byte[] { 9, 8 }), "TryWrite into a free slot");
                Frame frame = reader.Read(1000);
                Check(frame.Seq == 2 && frame.Data.Length == 2 && frame.Data[0] == 9 && frame.Data[1] == 8,
                      "Read() returns an array of the frame's size");

                PoolStats s = reader.Stats;
                Check(s.SlotCapacity == 4096 && s.SlotCount == 3 && s.LastSeq == 2, "stats geometry and last seq");
                Check(s.Format == "text" && s.ReadMode == ReadMode.Latest, "stats format and read mode");
            }
        }
        finally { Remove(name); }
    }

    static void LatestReaderCountsDroppedFrames()
    {
        string name = NewName("dropped");
        try
        {
            using (var writer = CreateExcl(name, 64, 4))
            using (var reader = Pool.Open(name))
            {
                for (byte i = 1; i <= 3; i++)
                    writer.Write(new byte[] { i }, 0);
                Frame f;
                Check(reader.TryRead(out f) && f.Seq == 3 && f.Data[0] == 3, "LATEST returns the newest");
                for (byte i = 4; i <= 6; i++)
                    writer.Write(new byte[] { i }, 0);
                var buf = new byte[1];
                FrameInfo info;
                Check(reader.TryRead(new Span<byte>(buf), out info) && info.Seq == 6 && info.Dropped == 2 && buf[0] == 6,
                      "dropped counts the frames skipped");
            }
        }
        finally { Remove(name); }
    }

    static void TryCallsReturnFalseWhenNothingCame()
    {
        string name = NewName("try");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            using (var reader = Pool.Open(name))
            {
                Frame f;
                FrameInfo info;
                ReadLoan r;
                WriteLoan w;
                Check(!reader.TryRead(out f) && f == null, "TryRead on an empty pool");
                Check(!reader.TryRead(new Span<byte>(new byte[64]), out info, 5), "TryRead with a timeout");
                Check(!reader.TryAcquireRead(out r) && r == null, "TryAcquireRead on an empty pool");
                Check(writer.TryWrite(new byte[] { 1 }), "TryWrite into the free slot");
                using (var held = reader.AcquireRead(0))
                {
                    // N = 1 and its slot is held: no room for the writer.
                    Check(!writer.TryWrite(new byte[] { 2 }), "TryWrite while the only slot is held");
                    Check(!writer.TryAcquireWrite(out w, 5) && w == null, "TryAcquireWrite while the only slot is held");
                }
                Check(writer.TryWrite(new byte[] { 2 }), "TryWrite after the read loan was disposed");
            }
        }
        finally { Remove(name); }
    }

    static void ErrorsCarryCodeAndName()
    {
        string name = NewName("errors");
        try
        {
            try
            {
                Pool.Open(name).Dispose();
                Check(false, "opening a missing pool threw nothing");
            }
            catch (MmpoolException e)
            {
                Check(e.Code == -2 && e.Error == ErrorCode.NotFound && e.Name == "MMPOOL_ENOENT", "code and name of ENOENT");
                Check(e.Message.Contains("mmpool_open") && e.Message.Contains("MMPOOL_ENOENT"), "message names call and error");
            }
            using (var p = CreateExcl(name, 16, 2))
            {
                Throws(() => CreateExcl(name, 16, 2).Dispose(), ErrorCode.Exists, "create an existing pool exclusively");
                Throws(() => Pool.Open(name, new PoolOptions { SlotCapacity = 32 }).Dispose(), ErrorCode.Mismatch,
                       "open with another capacity");
                Throws(() => CreateExcl(name + "-f", 16, 2, ReadMode.Latest, new string('f', 64)).Dispose(),
                       ErrorCode.InvalidArgument, "format longer than 63 bytes");
                Throws(() => p.Write(new byte[17], 0), ErrorCode.TooBig, "write larger than a slot");
                p.Write(new byte[16], 0);
                Throws(() => p.Read(new Span<byte>(new byte[8]), 0), ErrorCode.NoSpace, "read into a small buffer");
                Check(p.Read(new Span<byte>(new byte[16]), 0).Length == 16, "the frame stayed unread after NoSpace");
                Throws(() => p.Read(new Span<byte>(new byte[16]), 5), ErrorCode.TimedOut, "read with nothing new");
                Throws(() => p.Read(0), ErrorCode.Again, "Read() without waiting");
            }
            var closed = Pool.Open(name);
            closed.Dispose();
            bool disposed = false;
            try { closed.Flush(); } catch (ObjectDisposedException) { disposed = true; }
            Check(disposed, "a disposed pool throws ObjectDisposedException");
        }
        finally { Remove(name); }
    }

    // EMISMATCH alone does not say what differs: the message names the
    // pool's geometry and the one asked for (0 stands for the pool's).
    static void MismatchNamesBothGeometries()
    {
        string name = NewName("mismatch");
        try
        {
            using (CreateExcl(name, 65536, 2))
            {
                foreach (var c in new[] {
                    new { Cap = 6220800UL, Count = 3u, Want = "pool has 2 slots x 65536 B, asked 3 x 6220800 B" },
                    new { Cap = 32UL, Count = 0u, Want = "pool has 2 slots x 65536 B, asked any x 32 B" },
                    new { Cap = 0UL, Count = 1u, Want = "pool has 2 slots x 65536 B, asked 1 x any B" } })
                {
                    try
                    {
                        Pool.Open(name, new PoolOptions { SlotCapacity = c.Cap, SlotCount = c.Count, Create = true }).Dispose();
                        Check(false, "opening " + c.Count + " x " + c.Cap + " threw nothing");
                    }
                    catch (MmpoolException e)
                    {
                        Check(e.Error == ErrorCode.Mismatch, "opening " + c.Count + " x " + c.Cap + " gives Mismatch, not " + e.Name);
                        Check(e.Message.EndsWith(": " + c.Want) && e.Message.StartsWith("mmpool_open: ") &&
                              e.Message.Contains("(MMPOOL_EMISMATCH)"),
                              "the message names both geometries: " + e.Message);
                    }
                }
            }
            using (CreateExcl(name + "-1", 4096, 1))
            {
                try
                {
                    Pool.Open(name + "-1", new PoolOptions { SlotCount = 2 }).Dispose();
                    Check(false, "opening 2 slots of a 1-slot pool threw nothing");
                }
                catch (MmpoolException e)
                {
                    Check(e.Message.EndsWith(": pool has 1 slot x 4096 B, asked 2 x any B"), "one slot, singular: " + e.Message);
                }
            }
        }
        finally
        {
            Remove(name);
            Remove(name + "-1");
        }
    }

    // POSIX calls for the owner tests (the tests run on POSIX only); Mono
    // maps "libc" to the C library.
    [DllImport("libc")] static extern uint geteuid();
    [DllImport("libc", SetLastError = true)] static extern int chmod(string path, uint mode);
    [DllImport("libc", SetLastError = true)] static extern int chown(string path, uint owner, uint group);

    // The native structs must have mmpool.h's sizes and offsets, which it
    // checks with _Static_assert; they are internal, so looked up by name.
    static void NativeStructsMatchTheHeader()
    {
        Type stats = typeof(Pool).Assembly.GetType("Mmpool.Native+Stats", true);
        Type info = typeof(Pool).Assembly.GetType("Mmpool.Native+Info", true);
        Check(Marshal.SizeOf(stats) == 120, "sizeof(mmpool_stats) is 120, not " + Marshal.SizeOf(stats));
        Check(Marshal.OffsetOf(stats, "owner").ToInt64() == 88, "mmpool_stats.owner at 88");
        Check(Marshal.OffsetOf(stats, "created").ToInt64() == 96, "mmpool_stats.created at 96");
        Check(Marshal.SizeOf(info) == 160, "sizeof(mmpool_info) is 160, not " + Marshal.SizeOf(info));
        Check(Marshal.OffsetOf(info, "owner").ToInt64() == 128, "mmpool_info.owner at 128");
    }

    static void StatsTellTheOwnerAndWhetherThisHandleCreatedThePool()
    {
        string name = NewName("owner");
        try
        {
            using (var creator = CreateExcl(name, 64, 2))
            using (var adopter = Pool.Open(name))
            using (var again = Pool.Create(name, 64, 2)) // there already: adopted
            using (var any = Pool.Open(name, new PoolOptions { AnyOwner = true }))
            {
                Check(creator.Stats.Created && !adopter.Stats.Created && !again.Stats.Created,
                      "Created only for the handle that created the pool");
                Check(creator.Stats.Owner == geteuid() && adopter.Stats.Owner == geteuid(),
                      "Owner is the caller's effective uid, not " + creator.Stats.Owner);
                Check(any.Stats.Owner == geteuid() && !any.Stats.Created, "AnyOwner opens one's own pool as usual");
            }
        }
        finally { Remove(name); }
    }

    // Another user's pool in a world-writable sticky directory (like
    // /dev/shm): AccessDenied naming the owner, unless AnyOwner. Root makes
    // the pool and gives it to an unused uid; other users skip this.
    static void AnotherUsersPoolInAStickyDirectoryNeedsAnyOwner()
    {
        if (geteuid() != 0)
        {
            Console.WriteLine("skipped AnotherUsersPoolInAStickyDirectoryNeedsAnyOwner: needs root");
            return;
        }
        const uint other = 64125;
        string dir = "/dev/shm/" + NewName("sticky");
        string path = dir + "/cam0";
        try
        {
            Directory.CreateDirectory(dir);
            Check(chmod(dir, Convert.ToUInt32("1777", 8)) == 0, "chmod 1777 " + dir);
            using (var squatter = Pool.Open(path, new PoolOptions {
                SlotCapacity = 64, SlotCount = 2, Create = true, Exclusive = true, Mode = Convert.ToUInt32("666", 8) }))
                squatter.Write(new byte[] { 6, 6, 6 }, 0);
            Check(chown(path, other, other) == 0, "chown " + path);
            foreach (bool create in new[] { false, true })
            {
                try
                {
                    Pool.Open(path, new PoolOptions { SlotCapacity = 64, SlotCount = 2, Create = create }).Dispose();
                    Check(false, "another user's pool opened without AnyOwner (Create " + create + ")");
                }
                catch (MmpoolException e)
                {
                    Check(e.Error == ErrorCode.AccessDenied, "AccessDenied, not " + e.Name);
                    Check(e.Message.StartsWith("mmpool_open: ") && e.Message.Contains("(MMPOOL_EACCES)") &&
                          e.Message.EndsWith(": owned by uid " + other),
                          "the message names the owner: " + e.Message);
                }
            }
            using (var p = Pool.Open(path, new PoolOptions { AnyOwner = true }))
            {
                PoolStats s = p.Stats;
                Check(s.Owner == other && !s.Created, "AnyOwner opens it; Owner " + s.Owner + ", Created " + s.Created);
                Frame f = p.Read(0);
                Check(f.Data.Length == 3 && f.Data[0] == 6, "the squatter's frame is read with AnyOwner");
            }
        }
        finally
        {
            Remove(path);
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    static void InterruptCancelsABlockedRead()
    {
        string name = NewName("interrupt");
        try
        {
            using (var p = CreateExcl(name, 16, 2))
            {
                var t = new Thread(() => { Thread.Sleep(20); p.Interrupt(); });
                t.Start();
                Throws(() => p.Read(10000), ErrorCode.Canceled, "read interrupted from another thread");
                t.Join();
            }
        }
        finally { Remove(name); }
    }

    static void LastSeqFollowsCommitsAndThrowsOnceUnlinked()
    {
        string name = NewName("lastseq");
        try
        {
            using (var w = CreateExcl(name, 16, 2))
            using (var r = Pool.Open(name))
            {
                Check(r.LastSeq() == 0, "no frame yet: 0");
                w.Write(new byte[] { 1 }, 0);
                w.Write(new byte[] { 2 }, 0);
                Check(r.LastSeq() == 2, "two commits: 2, not " + r.LastSeq());
                Pool.Unlink(name);
                Throws(() => r.LastSeq(), ErrorCode.Stale, "LastSeq on an unlinked pool");
            }
        }
        finally { Remove(name); }
    }

    // PoolOptions.SpinNs reaches the library: 300 ms of spin in a 300 ms
    // wait keeps the process busy for much of it (a sixth at least on a busy
    // machine); without it the wait sleeps.
    static void SpinNsMakesABlockedReadSpin()
    {
        string name = NewName("spin");
        try
        {
            using (var w = CreateExcl(name, 16, 2))
            using (var spinner = Pool.Open(name, new PoolOptions { SpinNs = 300000000 }))
            using (var sleeper = Pool.Open(name))
            {
                foreach (bool spins in new[] { true, false })
                {
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    Frame f;
                    bool got = (spins ? spinner : sleeper).TryRead(out f, 300);
                    double ms = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
                    Check(!got, "nothing to read");
                    Check(spins ? ms >= 50 : ms < 50,
                          (spins ? "spinning" : "sleeping") + " read used " + ms + " ms of CPU");
                }
            }
        }
        finally { Remove(name); }
    }

    static void WriteLoanCommitsWhatWasFilled()
    {
        string name = NewName("wcommit");
        try
        {
            using (var writer = CreateExcl(name, 8192, 2))
            using (var reader = Pool.Open(name))
            {
                using (var loan = writer.AcquireWrite(0))
                {
                    Check(loan.Capacity == 8192 && loan.Span.Length == 8192, "loan spans the slot");
                    Check(loan.Pointer.ToInt64() % 4096 == 0, "slot is 4096-byte aligned");
                    Span<byte> slot = loan.Span; // (Mono's mcs cannot assign through loan.Span[i])
                    slot[0] = 7;
                    slot[1] = 8;
                    Throws(() => loan.Commit(8193), ErrorCode.TooBig, "commit beyond the capacity");
                    Check(loan.IsActive, "loan still held after TooBig");
                    loan.Commit(2);
                    Check(!loan.IsActive, "commit ends the loan");
                    Throws(() => loan.Commit(2), ErrorCode.InvalidArgument, "second commit");
                }
                Frame f = reader.Read(0);
                Check(f.Data.Length == 2 && f.Data[0] == 7 && f.Data[1] == 8, "committed bytes read back");
            }
        }
        finally { Remove(name); }
    }

    // Header words a test scribbles through the pool file (docs/format.md):
    // u64 last_seq at 256, u32 commit_lock at 264 (see below). The
    // file's pages are the ones every handle maps, so a write() is seen at once.
    const long OffLastSeq = 256;
    const long OffCommitLock = 264;
    // A real holder first sets its entry's lock_mark (entry 1: 1024 + 64 +
    // 36) to the lock's value: entry index + 1 in bits 0-5, a nonce above.
    const long OffHolderMark = 1024 + 64 + 36;
    const ulong HeldByEntry1 = (1u << 6) | 2u;

    static void Scribble(string name, long offset, ulong value, int bytes)
    {
        using (var f = new FileStream("/dev/shm/" + name, FileMode.Open, FileAccess.ReadWrite))
        {
            f.Seek(offset, SeekOrigin.Begin);
            byte[] le = BitConverter.GetBytes(value);
            f.Write(le, 0, bytes);
        }
    }

    // After a commit that the C side says ended the loan, the loan says so
    // and hands out no Span or Pointer to the slot it gave back.
    static void CheckEnded(WriteLoan loan, string what)
    {
        Check(!loan.IsActive, what + ": loan no longer active");
        Throws(() => loan.Span.ToArray(), ErrorCode.InvalidArgument, what + ": Span after the end");
        Throws(() => loan.Pointer.ToInt64(), ErrorCode.InvalidArgument, what + ": Pointer after the end");
        Throws(() => loan.Abort(), ErrorCode.InvalidArgument, what + ": Abort after the end");
    }

    static void FailedCommitEndsTheLoanOnBadFormat()
    {
        string name = NewName("cformat");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            using (var other = Pool.Open(name))
            using (var reader = Pool.Open(name))
            {
                var loan = writer.AcquireWrite(0);
                Scribble(name, OffLastSeq, ulong.MaxValue, 8); // no seq left to give
                Throws(() => loan.Commit(1), ErrorCode.BadFormat, "commit on a damaged pool");
                Check(!loan.IsActive, "BadFormat: loan no longer active");
                Scribble(name, OffLastSeq, 7, 8);
                // The one slot went back to the pool: another writer's frame
                // lands in it and must stay as written.
                other.Write(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }, 0);
                try
                {
                    Span<byte> stale = loan.Span; // throws: the loan is over
                    stale[0] = (byte)'X';
                }
                catch (MmpoolException) { }
                Frame f = reader.Read(0);
                Check(f.Seq == 8 && Same(f.Data, new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o' }),
                      "the other writer's frame is intact");
                CheckEnded(loan, "BadFormat");
                loan.Dispose();
            }
        }
        finally { Remove(name); }
    }

    static void FailedCommitEndsTheLoanOnStale()
    {
        string name = NewName("cstale");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            {
                var loan = writer.AcquireWrite(0);
                Pool.Unlink(name);
                Throws(() => loan.Commit(1), ErrorCode.Stale, "commit on an unlinked pool");
                CheckEnded(loan, "Stale");
            }
        }
        finally { Remove(name); }
    }

    static void FailedCommitEndsTheLoanOnCanceled()
    {
        string name = NewName("ccancel");
        try
        {
            // A fresh pool gives its first handles entries 0 and 1; the
            // commit lock is made to look held by the live second one, so the
            // commit waits for it until Interrupt.
            using (var writer = CreateExcl(name, 64, 2))
            using (var holder = Pool.Open(name))
            using (var reader = Pool.Open(name))
            {
                var loan = writer.AcquireWrite(0);
                Scribble(name, OffHolderMark, HeldByEntry1, 4);
                Scribble(name, OffCommitLock, HeldByEntry1, 4);
                writer.Interrupt();
                Throws(() => loan.Commit(1), ErrorCode.Canceled, "commit interrupted waiting for the lock");
                CheckEnded(loan, "Canceled");
                Scribble(name, OffCommitLock, 0, 4);
                Scribble(name, OffHolderMark, 0, 4);
                FrameInfo info;
                Check(!reader.TryRead(new byte[64], out info), "nothing was published");
                writer.Write(new byte[] { 1 }, 0); // the slot came back
            }
        }
        finally { Remove(name); }
    }

    static void TooBigCommitKeepsTheLoan()
    {
        string name = NewName("c2big");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            using (var reader = Pool.Open(name))
            {
                var loan = writer.AcquireWrite(0);
                Throws(() => loan.Commit(65), ErrorCode.TooBig, "commit beyond the capacity");
                Check(loan.IsActive, "TooBig: loan still active");
                Span<byte> slot = loan.Span;
                slot[0] = 42;
                loan.Commit(1);
                Check(!loan.IsActive, "the later commit ends it");
                Frame f = reader.Read(0);
                Check(f.Data.Length == 1 && f.Data[0] == 42, "the later commit published the bytes");
            }
        }
        finally { Remove(name); }
    }

    static void WriteLoanNotCommittedIsAbortedByDispose()
    {
        string name = NewName("wabort");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            using (var reader = Pool.Open(name))
            {
                using (var loan = writer.AcquireWrite(0))
                {
                    Span<byte> slot = loan.Span;
                    slot[0] = 1;
                    Throws(() => writer.AcquireWrite(0), ErrorCode.InvalidArgument, "second write loan on a handle");
                }
                Frame f;
                Check(!reader.TryRead(out f), "nothing published by a disposed loan");
                var again = writer.AcquireWrite(0); // the slot and the handle's loan are free again
                again.Abort();
                Check(!again.IsActive, "abort ends the loan");
                Check(!reader.TryRead(out f), "nothing published by an aborted loan");
            }
        }
        finally { Remove(name); }
    }

    static void ReadLoanIsReleasedByDispose()
    {
        string name = NewName("rrelease");
        try
        {
            using (var writer = CreateExcl(name, 64, 1))
            using (var reader = Pool.Open(name))
            {
                writer.Write(new byte[] { 4, 5, 6 }, 0);
                using (var loan = reader.AcquireRead(0))
                {
                    Check(loan.Length == 3 && loan.Span[2] == 6 && loan.Seq == 1 && loan.Dropped == 0,
                          "read loan shows the frame in place");
                    Check(!writer.TryWrite(new byte[] { 1 }), "the loan pins the only slot");
                }
                Check(writer.TryWrite(new byte[] { 1 }), "slot free after Dispose");
                var second = reader.AcquireRead(0);
                Check(second.Info.Seq == 2, "next frame");
                second.Release();
                Check(!second.IsActive, "Release ends the loan");
                Throws(() => second.Release(), ErrorCode.InvalidArgument, "second release");
                second.Dispose(); // after Release: nothing more to do
                Check(writer.TryWrite(new byte[] { 2 }), "slot free after Release");
            }
        }
        finally { Remove(name); }
    }

    // Disposing a pool while loans are active defers the close to the end
    // of the last loan: their spans stay mapped meanwhile.
    static void LoansKeepADisposedPoolOpenUntilTheyEnd()
    {
        string name = NewName("outlive");
        try
        {
            using (var other = CreateExcl(name, 64, 1))
            {
                var pool = Pool.Open(name);
                pool.Write(new byte[] { 9, 8, 7 }, 0);
                ReadLoan r = pool.AcquireRead(0);
                pool.Dispose();
                pool.Dispose(); // idempotent
                Check(pool.IsClosed && r.IsActive, "the loan is active after the pool's Dispose");
                bool disposed = false;
                try { pool.Flush(); } catch (ObjectDisposedException) { disposed = true; }
                Check(disposed, "calls on the disposed pool throw ObjectDisposedException");
                Check(r.Span.Length == 3 && r.Span[2] == 7, "the span is still mapped");
                Check(!other.TryWrite(new byte[] { 1 }), "the loan still pins the only slot");
                r.Release();
                Check(other.TryWrite(new byte[] { 1 }), "slot free once the loan ended");

                pool = Pool.Open(name);
                WriteLoan w = pool.AcquireWrite(0);
                pool.Dispose();
                Span<byte> slot = w.Span;
                slot[0] = 5;
                w.Commit(1);
                Frame f = other.Read(0);
                Check(f.Data.Length == 1 && f.Data[0] == 5, "a loan commits after its pool's Dispose");
            }
        }
        finally { Remove(name); }
    }

    // C would cut the path at the NUL and open another pool.
    static void APathWithANulIsRefused()
    {
        bool refused = false;
        try { Pool.Open("mmpool-cs-nul\0other").Dispose(); } catch (ArgumentException) { refused = true; }
        Check(refused, "a path with a NUL throws ArgumentException");
    }

    // The C writer fills frames in another process; this process reads them
    // in FIFO order and checks each one.
    static void FramesFromACWriterArriveIntact()
    {
        const int frames = 200;
        const int size = 65536;
        string name = NewName("xproc");
        try
        {
            using (var reader = Pool.Open(name, new PoolOptions {
                SlotCapacity = size, SlotCount = 3, Create = true, Exclusive = true, ReadMode = ReadMode.Fifo }))
            {
                var psi = new ProcessStartInfo(writerPath,
                    "--pool " + name + " --frames " + frames + " --size " + size + " --fps 0 --loan");
                psi.UseShellExecute = false;
                using (var child = Process.Start(psi))
                {
                    var buf = new byte[size];
                    ulong lastNumber = 0, lastSeq = 0, received = 0, bad = 0, dropGaps = 0;
                    bool ended = false;
                    while (!ended)
                    {
                        FrameInfo info = reader.Read(new Span<byte>(buf), 10000);
                        ulong number, flags;
                        if (!Contract.Verify(new ReadOnlySpan<byte>(buf, 0, (int)info.Length), size, out flags, out number))
                        {
                            bad++;
                            continue;
                        }
                        if (lastSeq != 0 && info.Dropped != info.Seq - lastSeq - 1)
                            dropGaps++;
                        lastSeq = info.Seq;
                        if ((flags & 1) != 0)
                        {
                            ended = true;
                            Check(number == frames, "end frame counts the frames sent");
                            break;
                        }
                        Check(number > lastNumber && number == info.Seq, "numbers rise with seqs");
                        lastNumber = number;
                        received++;
                    }
                    Check(child.WaitForExit(10000), "writer exits");
                    Check(child.ExitCode == 0, "writer succeeded");
                    Check(bad == 0, "every frame verified (" + bad + " bad)");
                    Check(dropGaps == 0, "Dropped matches the seq gaps");
                    Check(lastNumber == frames, "the last data frame arrived (got " + lastNumber + ")");
                    Check(received > 0, "frames received");
                }
            }
        }
        finally { Remove(name); }
    }

    // ReadAsync. A wait that should end is given this long (a loaded
    // machine); one that should not end is watched for QuietMs.
    const int ShouldArriveMs = 10000;
    const int QuietMs = 150;

    // The exception task t ended with (AggregateException unwrapped), or
    // null when it ran to completion; a check fails if it does not end
    // within ShouldArriveMs.
    static Exception EndOf(Task t, string what)
    {
        try
        {
            Check(t.Wait(ShouldArriveMs), what + ": ended within " + ShouldArriveMs + " ms");
            return null;
        }
        catch (AggregateException e)
        {
            return e.InnerException;
        }
    }

    static bool IsMmpoolError(Exception e, ErrorCode want)
    {
        var m = e as MmpoolException;
        return m != null && m.Error == want;
    }

    static void ReadAsyncGetsAFrameWrittenLater()
    {
        string name = NewName("async");
        try
        {
            using (var writer = CreateExcl(name, 64, 2))
            using (var reader = Pool.Open(name))
            {
                Task<Frame> t = reader.ReadAsync();
                Thread.Sleep(QuietMs);
                Check(!t.IsCompleted, "ReadAsync waits while nothing was written");
                var later = new Thread(() => { Thread.Sleep(20); writer.Write(new byte[] { 7, 8, 9 }, 0); });
                later.Start();
                Check(EndOf(t, "ReadAsync of a frame written later") == null && t.Status == TaskStatus.RanToCompletion,
                      "ReadAsync gets the frame");
                later.Join();
                if (t.Status == TaskStatus.RanToCompletion)
                    Check(t.Result.Seq == 1 && Same(t.Result.Data, new byte[] { 7, 8, 9 }), "the frame's seq and bytes");

                // A frame already there: taken at once, without a wait.
                writer.Write(new byte[] { 10 }, 0);
                Task<Frame> now = reader.ReadAsync();
                Check(now.Status == TaskStatus.RanToCompletion && now.Result.Seq == 2,
                      "ReadAsync of a frame already there has ended when it returns");
            }
        }
        finally { Remove(name); }
    }

    static void ReadAsyncCanceledTakesNoFrameAndLeavesThePoolUsable()
    {
        string name = NewName("acancel");
        try
        {
            // One slot: a read loan left behind would keep the writer out.
            using (var writer = CreateExcl(name, 64, 1))
            using (var reader = Pool.Open(name))
            {
                using (var cts = new CancellationTokenSource())
                {
                    Task<Frame> t = reader.ReadAsync(cts.Token);
                    Thread.Sleep(QuietMs);
                    Check(!t.IsCompleted, "ReadAsync waits until canceled");
                    cts.Cancel();
                    Exception e = EndOf(t, "canceled ReadAsync");
                    Check(t.IsCanceled && e is OperationCanceledException,
                          "the task ends canceled, not " + t.Status + " " + e);
                }
                Check(writer.TryWrite(new byte[] { 1 }), "no loan left: the only slot is free");
                Check(reader.Read(ShouldArriveMs).Seq == 1, "a plain Read gets the next frame");
                Check(writer.TryWrite(new byte[] { 2 }), "and leaves the slot free");

                // Canceled before it begins: the frame waiting stays unread.
                using (var cts = new CancellationTokenSource())
                {
                    cts.Cancel();
                    Task<Frame> t = reader.ReadAsync(cts.Token);
                    Check(EndOf(t, "ReadAsync with a canceled token") is OperationCanceledException && t.IsCanceled,
                          "a canceled token cancels at once");
                }
                Task<Frame> next = reader.ReadAsync();
                Check(EndOf(next, "ReadAsync after the cancellations") == null && next.Result.Seq == 2,
                      "a later ReadAsync gets the frame the canceled ones left");
            }
        }
        finally { Remove(name); }
    }

    // Waiting ReadAsyncs hold no thread-pool thread: with more of them than
    // the pool may have workers, work queued meanwhile still runs, and the
    // available workers do not drop. Then each gets its own pool's frame.
    static void ManyWaitingReadAsyncsHoldNoThreadPoolThread()
    {
        int n = Math.Min(Environment.ProcessorCount + 8, 24);
        var names = new string[n];
        var writers = new Pool[n];
        var readers = new Pool[n];
        var tasks = new Task<Frame>[n];
        int maxWorkers, maxIo, minWorkers, minIo;
        ThreadPool.GetMaxThreads(out maxWorkers, out maxIo);
        ThreadPool.GetMinThreads(out minWorkers, out minIo);
        try
        {
            for (int i = 0; i < n; i++)
            {
                names[i] = NewName("many" + i);
                writers[i] = CreateExcl(names[i], 64, 2);
                readers[i] = Pool.Open(names[i]);
            }
            Check(ThreadPool.SetMaxThreads(Math.Max(minWorkers, 2), maxIo),
                  "thread pool limited to " + Math.Max(minWorkers, 2) + " workers");
            int before, io;
            ThreadPool.GetAvailableThreads(out before, out io);
            for (int i = 0; i < n; i++)
                tasks[i] = readers[i].ReadAsync();
            Thread.Sleep(QuietMs);
            int during;
            ThreadPool.GetAvailableThreads(out during, out io);
            int waiting = 0;
            foreach (Task<Frame> t in tasks)
                waiting += t.IsCompleted ? 0 : 1;
            Check(waiting == n, waiting + " of " + n + " ReadAsyncs wait while nothing was written");
            Check(during >= before - 1, "available workers " + before + " before the waits, " + during + " during them");
            Check(Task.Run(() => 42).Wait(ShouldArriveMs), "work queued while " + n + " ReadAsyncs wait runs");

            for (int i = 0; i < n; i++)
                writers[i].Write(new byte[] { (byte)i }, 0);
            for (int i = 0; i < n; i++)
                Check(EndOf(tasks[i], "ReadAsync " + i) == null && tasks[i].Result.Data[0] == i,
                      "ReadAsync " + i + " gets its pool's frame");
        }
        finally
        {
            ThreadPool.SetMaxThreads(maxWorkers, maxIo);
            for (int i = 0; i < n; i++)
            {
                if (readers[i] != null)
                    readers[i].Dispose();
                if (writers[i] != null)
                    writers[i].Dispose();
                if (names[i] != null)
                    Remove(names[i]);
            }
        }
    }

    static void InterruptAndUnlinkEndAWaitingReadAsync()
    {
        string name = NewName("aint");
        try
        {
            using (var writer = CreateExcl(name, 64, 2))
            using (var reader = Pool.Open(name))
            {
                Task<Frame> t = reader.ReadAsync();
                Thread.Sleep(QuietMs);
                Check(!t.IsCompleted, "ReadAsync waits before the interrupt");
                reader.Interrupt();
                Exception e = EndOf(t, "interrupted ReadAsync");
                Check(IsMmpoolError(e, ErrorCode.Canceled), "Interrupt: MmpoolException Canceled, not " + e);

                // The interrupt is used up: the pool reads on.
                writer.Write(new byte[] { 1 }, 0);
                Check(reader.Read(ShouldArriveMs).Seq == 1, "Read after the interrupt");
                Task<Frame> again = reader.ReadAsync();
                writer.Write(new byte[] { 2 }, 0);
                Check(EndOf(again, "ReadAsync after the interrupt") == null && again.Result.Seq == 2,
                      "ReadAsync after the interrupt gets the next frame");

                // An interrupt made while no ReadAsync waits stays pending,
                // as for any call that does not wait; it ends the next
                // ReadAsync when that wakes up, as it ends a blocking Read.
                reader.Interrupt();
                Task<Frame> pending = reader.ReadAsync();
                Thread.Sleep(QuietMs);
                Check(!pending.IsCompleted, "ReadAsync waits despite the pending interrupt");
                writer.Write(new byte[] { 3 }, 0);
                Check(IsMmpoolError(EndOf(pending, "ReadAsync woken with an interrupt pending"), ErrorCode.Canceled),
                      "the pending interrupt ends ReadAsync at its wake-up");
                Check(reader.Read(0).Seq == 3, "the frame that woke it is still there");

                Task<Frame> stale = reader.ReadAsync();
                Thread.Sleep(QuietMs);
                Check(!stale.IsCompleted, "ReadAsync waits before the unlink");
                Pool.Unlink(name);
                e = EndOf(stale, "ReadAsync of an unlinked pool");
                Check(IsMmpoolError(e, ErrorCode.Stale), "Unlink: MmpoolException Stale, not " + e);
            }
        }
        finally { Remove(name); }
    }

    // Dispose ends a waiting ReadAsync, and its handle closes (the other
    // handle sees the count drop): the wait kept nothing open.
    static void DisposeEndsAWaitingReadAsync()
    {
        string name = NewName("adispose");
        try
        {
            using (var writer = CreateExcl(name, 64, 2))
            {
                var reader = Pool.Open(name);
                Check(writer.Stats.Handles == 2, "two handles attached");
                Task<Frame> t = reader.ReadAsync();
                bool refused = false;
                try { reader.ReadAsync(); } catch (InvalidOperationException) { refused = true; }
                Check(refused, "a second ReadAsync while one waits throws InvalidOperationException");
                Thread.Sleep(QuietMs);
                reader.Dispose();
                Exception e = EndOf(t, "ReadAsync of a disposed pool");
                Check(e is ObjectDisposedException, "Dispose: ObjectDisposedException, not " + e);
                var closing = Stopwatch.StartNew();
                while (writer.Stats.Handles != 1 && closing.ElapsedMilliseconds < ShouldArriveMs)
                    Thread.Sleep(5);
                Check(writer.Stats.Handles == 1, "the disposed reader's handle is closed");
            }
        }
        finally { Remove(name); }
    }

    // Every frame of the C writer, read with ReadAsync alone: a lost
    // wake-up would stall the stream (nothing else makes ReadAsync look).
    static void ReadAsyncFollowsACWriterProcess()
    {
        const int frames = 150;
        const int size = 4096;
        string name = NewName("axproc");
        try
        {
            using (var reader = Pool.Open(name, new PoolOptions {
                SlotCapacity = size, SlotCount = 3, Create = true, Exclusive = true, ReadMode = ReadMode.Fifo }))
            {
                var psi = new ProcessStartInfo(writerPath,
                    "--pool " + name + " --frames " + frames + " --size " + size + " --fps 300");
                psi.UseShellExecute = false;
                // Started before the writer is: the first frame is waited for.
                Task<Frame> t = reader.ReadAsync();
                Check(!t.IsCompleted, "the first ReadAsync waits for the writer process");
                using (var child = Process.Start(psi))
                {
                    ulong lastSeq = 0, received = 0, dropped = 0, bad = 0;
                    bool ended = false;
                    while (!ended)
                    {
                        if (EndOf(t, "ReadAsync after seq " + lastSeq) != null || !t.Wait(0))
                            break;
                        Frame f = t.Result;
                        ulong number, flags;
                        // The first read says 0 dropped, whatever came before it.
                        ulong gap = f.Seq - lastSeq - 1;
                        if (!Contract.Verify(f.Data, size, out flags, out number) || (lastSeq != 0 && f.Dropped != gap))
                            bad++;
                        dropped += gap;
                        lastSeq = f.Seq;
                        ended = (flags & 1) != 0;
                        if (!ended)
                        {
                            received++;
                            t = reader.ReadAsync();
                        }
                    }
                    Check(child.WaitForExit(ShouldArriveMs) && child.ExitCode == 0, "writer succeeded");
                    Check(ended, "the end frame arrived");
                    Check(bad == 0, "every frame verified, Dropped matching the seqs (" + bad + " bad)");
                    Check(received + dropped == frames, received + " received + " + dropped + " dropped of " + frames);
                }
            }
        }
        finally { Remove(name); }
    }

    static void Run(string name, Action test)
    {
        try
        {
            test();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine(name + ": unexpected exception: " + e);
            failures++;
        }
    }

    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: mono TestMmpool.exe PATH_TO_FRAME_WRITER");
            return 2;
        }
        writerPath = args[0];
        Run("CopyRoundTripKeepsBytesAndMetadata", CopyRoundTripKeepsBytesAndMetadata);
        Run("LatestReaderCountsDroppedFrames", LatestReaderCountsDroppedFrames);
        Run("TryCallsReturnFalseWhenNothingCame", TryCallsReturnFalseWhenNothingCame);
        Run("ErrorsCarryCodeAndName", ErrorsCarryCodeAndName);
        Run("MismatchNamesBothGeometries", MismatchNamesBothGeometries);
        Run("NativeStructsMatchTheHeader", NativeStructsMatchTheHeader);
        Run("StatsTellTheOwnerAndWhetherThisHandleCreatedThePool", StatsTellTheOwnerAndWhetherThisHandleCreatedThePool);
        Run("AnotherUsersPoolInAStickyDirectoryNeedsAnyOwner", AnotherUsersPoolInAStickyDirectoryNeedsAnyOwner);
        Run("InterruptCancelsABlockedRead", InterruptCancelsABlockedRead);
        Run("LastSeqFollowsCommitsAndThrowsOnceUnlinked", LastSeqFollowsCommitsAndThrowsOnceUnlinked);
        Run("SpinNsMakesABlockedReadSpin", SpinNsMakesABlockedReadSpin);
        Run("WriteLoanCommitsWhatWasFilled", WriteLoanCommitsWhatWasFilled);
        Run("FailedCommitEndsTheLoanOnBadFormat", FailedCommitEndsTheLoanOnBadFormat);
        Run("FailedCommitEndsTheLoanOnStale", FailedCommitEndsTheLoanOnStale);
        Run("FailedCommitEndsTheLoanOnCanceled", FailedCommitEndsTheLoanOnCanceled);
        Run("TooBigCommitKeepsTheLoan", TooBigCommitKeepsTheLoan);
        Run("WriteLoanNotCommittedIsAbortedByDispose", WriteLoanNotCommittedIsAbortedByDispose);
        Run("ReadLoanIsReleasedByDispose", ReadLoanIsReleasedByDispose);
        Run("LoansKeepADisposedPoolOpenUntilTheyEnd", LoansKeepADisposedPoolOpenUntilTheyEnd);
        Run("APathWithANulIsRefused", APathWithANulIsRefused);
        Run("FramesFromACWriterArriveIntact", FramesFromACWriterArriveIntact);
        Run("ReadAsyncGetsAFrameWrittenLater", ReadAsyncGetsAFrameWrittenLater);
        Run("ReadAsyncCanceledTakesNoFrameAndLeavesThePoolUsable", ReadAsyncCanceledTakesNoFrameAndLeavesThePoolUsable);
        Run("ManyWaitingReadAsyncsHoldNoThreadPoolThread", ManyWaitingReadAsyncsHoldNoThreadPoolThread);
        Run("InterruptAndUnlinkEndAWaitingReadAsync", InterruptAndUnlinkEndAWaitingReadAsync);
        Run("DisposeEndsAWaitingReadAsync", DisposeEndsAWaitingReadAsync);
        Run("ReadAsyncFollowsACWriterProcess", ReadAsyncFollowsACWriterProcess);
        if (failures != 0)
        {
            Console.Error.WriteLine(failures + " check(s) failed");
            return 1;
        }
        Console.WriteLine("all C# binding checks passed (mmpool " + Pool.Version + ")");
        return 0;
    }
}

// The frame layout of examples/xlang (frame_writer writes it): a 32-byte
// little-endian header (magic, flags, number, send time, checksum) and a
// checksum that is the wrapping sum of all u64 words, its own taken as 0.
static class Contract
{
    const uint Magic = 0x4d4d5044;

    public static unsafe bool Verify(ReadOnlySpan<byte> frame, int dataSize, out ulong flags, out ulong number)
    {
        flags = number = 0;
        if (frame.Length < 32 || !BitConverter.IsLittleEndian)
            return false;
        fixed (byte* start = &MemoryMarshal.GetReference(frame))
        {
            ulong* words = (ulong*)start;
            flags = *(uint*)(start + 4);
            number = words[1];
            int expect = (flags & 1) != 0 ? 32 : dataSize;
            if (*(uint*)start != Magic || frame.Length != expect)
                return false;
            ulong sum = 0;
            int n = frame.Length / 8;
            for (int i = 0; i < n; i++)
                sum += words[i];
            return unchecked(sum - words[3]) == words[3];
        }
    }
}
