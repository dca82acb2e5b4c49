// Mmpool: a P/Invoke binding of libmmpool (mmpool.h) for .NET and Mono.
//
// Errors: every failure throws MmpoolException with the MMPOOL_E* Code and
// its Name. The Try* calls are the exception: "nothing came in the time
// given" (MMPOOL_EAGAIN, MMPOOL_EBUSY, MMPOOL_ETIMEDOUT) is false for them,
// and everything else throws. Blocking calls take a timeout in
// milliseconds: Pool.WaitForever (-1), 0 (do not wait) or more.
//
// Ownership: a Pool owns one handle (a SafeHandle); Dispose (or the
// finalizer) closes it. A WriteLoan or ReadLoan borrows one slot of its pool:
// a write loan not committed is aborted by Dispose, a read loan is released.
// A loan keeps the handle, and so the mapping, open: Dispose of the pool
// while loans are active closes it when the last of them ends, so a loan's
// Span stays valid until the loan ends, whatever happens to the pool. A
// loan's spans point into shared memory and must not be used after the loan
// ends. A loan that is never ended keeps its pool's handle open for good.
//
// Threads: calls on one Pool (and its loans) must not overlap, except
// Interrupt(), which any thread may call, also during Dispose. A ReadAsync
// counts as a call until its task ends; Dispose may overlap it (and ends it).
//
// Event loops: ReadAsync waits for the pool's event handle
// (mmpool_event_handle) without holding a thread: on Windows the thread
// pool's wait thread watches it, on Linux one background thread per
// process (EventThread, below) poll()s the descriptors of every pool a
// ReadAsync waits on.
//
// Loading the native library: [DllImport("mmpool")]. Windows loads
// mmpool.dll. Under Mono elsewhere, Mmpool.Net.dll.config, which CMake
// makes and installs beside the assembly, maps "mmpool" to the soname,
// libmmpool.so.0: the file of the runtime package, found by the system's
// loader (ld.so.cache, RPATH, LD_LIBRARY_PATH). Without that config (this
// file compiled into a program, or .NET, which reads no dllmap) the
// runtime looks for libmmpool.so, which only the -dev package installs.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace Mmpool
{
    /// <summary>The MMPOOL_E* codes of mmpool.h; the values are fixed.</summary>
    public enum ErrorCode
    {
        Ok = 0,
        InvalidArgument = -1,  // MMPOOL_EINVAL
        NotFound = -2,         // MMPOOL_ENOENT
        Exists = -3,           // MMPOOL_EEXIST
        AccessDenied = -4,     // MMPOOL_EACCES
        BadFormat = -5,        // MMPOOL_EFORMAT
        Mismatch = -6,         // MMPOOL_EMISMATCH
        TooBig = -7,           // MMPOOL_E2BIG
        NoSpace = -8,          // MMPOOL_ENOSPC
        Again = -9,            // MMPOOL_EAGAIN
        Busy = -10,            // MMPOOL_EBUSY
        TimedOut = -11,        // MMPOOL_ETIMEDOUT
        System = -12,          // MMPOOL_ESYS
        Canceled = -13,        // MMPOOL_ECANCELED
        Stale = -14,           // MMPOOL_ESTALE
        TooMany = -15,         // MMPOOL_ETOOMANY
    }

    public enum ReadMode : uint { Latest = 0, Fifo = 1 }

    /// <summary>A failed call: Code is the MMPOOL_E* value, Name its name
    /// ("MMPOOL_EAGAIN"), Message says which call failed and why.</summary>
    public class MmpoolException : Exception
    {
        public int Code { get; private set; }
        public string Name { get; private set; }
        public ErrorCode Error { get { return (ErrorCode)Code; } }

        public MmpoolException(string call, int code) : this(call, code, null) { }

        // detail, when not null, is appended to the message: what the code
        // alone cannot say (the two geometries of a Mismatch, the owner of a
        // pool refused with AccessDenied).
        internal MmpoolException(string call, int code, string detail)
            : base(call + ": " + Native.Describe(code) + " (" + Native.NameOf(code) + ")" +
                   (detail != null ? ": " + detail : ""))
        {
            Code = code;
            Name = Native.NameOf(code);
        }
    }

    /// <summary>How Pool.Open opens a pool; see mmpool_options.</summary>
    public sealed class PoolOptions
    {
        public ulong SlotCapacity;     // bytes per frame; 0 = take the pool's
        public uint SlotCount;         // 0 = take the pool's
        public bool Create;            // MMPOOL_CREATE: create it if missing
        public bool Exclusive;         // MMPOOL_EXCL: with Create, fail if it exists
        public uint Mode;              // permission bits on create; 0 = 0600
        public ReadMode ReadMode = ReadMode.Latest;
        public string Format;          // payload description, <= 63 bytes of UTF-8
        // MMPOOL_ANY_OWNER: open a pool in a world-writable sticky directory
        // (/dev/shm) whatever user owns its file; without it another user's
        // pool there throws AccessDenied, whose message names the owner.
        public bool AnyOwner;
        // mmpool_options.spin_ns: how long a blocked call watches the pool,
        // burning a CPU, before it sleeps; 0 never spins.
        public ulong SpinNs;
    }

    /// <summary>A frame's metadata (mmpool_frame).</summary>
    public struct FrameInfo
    {
        public ulong Seq;          // 1, 2, 3, ... per pool
        public ulong TimestampNs;  // commit time, on the clock of Pool.NowNs()
        public ulong Length;       // payload bytes
        public ulong Dropped;      // frames this handle never saw
    }

    /// <summary>A frame copied out of the pool.</summary>
    public sealed class Frame
    {
        public byte[] Data { get; internal set; }
        public ulong Seq { get; internal set; }
        public ulong TimestampNs { get; internal set; }
        public ulong Dropped { get; internal set; }
    }

    public sealed class PoolStats
    {
        public ulong SlotCapacity { get; internal set; }
        public uint SlotCount { get; internal set; }
        public ReadMode ReadMode { get; internal set; }
        public ulong LastSeq { get; internal set; }  // newest committed seq, 0 if none
        public string Format { get; internal set; }
        // The pool file's owner when the handle was opened: its uid
        // (Windows: the RID of the owner's SID).
        public ulong Owner { get; internal set; }
        // Whether this handle created the pool (false: it opened one that was there).
        public bool Created { get; internal set; }
        // Live handles attached to the pool now, this one included.
        public uint Handles { get; internal set; }
        // Of those, the ones that have committed a frame (0: every writer is gone).
        public uint Writers { get; internal set; }
    }

    /// <summary>The C handle. P/Invoke holds a reference for the length
    /// of each call and each active loan holds one, so mmpool_close runs
    /// only when the pool is disposed (or finalized) and no call or loan
    /// uses the handle any more.</summary>
    internal sealed class PoolHandle : SafeHandle
    {
        public PoolHandle() : base(IntPtr.Zero, true) { }

        public override bool IsInvalid { get { return handle == IntPtr.Zero; } }

        protected override bool ReleaseHandle()
        {
            Native.mmpool_close(handle);
            return true;
        }
    }

    /// <summary>One handle on a pool.</summary>
    public sealed class Pool : IDisposable
    {
        public const int WaitForever = -1;

        readonly PoolHandle handle;
        // Set by Dispose. Not handle.IsClosed: Mono keeps that false while
        // loans still hold references.
        volatile bool disposed;
        // 1 while a ReadAsync has not ended: one at a time per pool.
        int readingAsync;
        // The event wait of that ReadAsync while it waits; Dispose ends it.
        EventWait waiting;

        Pool(PoolHandle handle) { this.handle = handle; }

        /// <summary>Opens the pool at path (a bare name: the platform's
        /// shared-memory place), creating it when options.Create says so.
        /// options null: adopt an existing pool as it is.</summary>
        public static Pool Open(string path, PoolOptions options)
        {
            CheckPath(path);
            var o = new Native.Options();
            IntPtr format = IntPtr.Zero;
            try
            {
                if (options != null)
                {
                    o.slot_capacity = options.SlotCapacity;
                    o.slot_count = options.SlotCount;
                    o.flags = (options.Create ? Native.Create : 0u) | (options.Exclusive ? Native.Excl : 0u) |
                              (options.AnyOwner ? Native.AnyOwner : 0u);
                    o.mode = options.Mode;
                    o.read_mode = (uint)options.ReadMode;
                    o.spin_ns = options.SpinNs;
                    if (options.Format != null)
                    {
                        if (options.Format.IndexOf('\0') >= 0)
                            throw new ArgumentException("format contains a NUL character", "options");
                        format = Native.ToUtf8(options.Format);
                        o.format = format;
                    }
                }
                PoolHandle h;
                int rc = Native.mmpool_open(out h, path, ref o);
                if (rc != 0)
                {
                    h.SetHandleAsInvalid(); // *out is NULL on failure
                    h.Dispose();
                }
                if (rc == (int)ErrorCode.Mismatch)
                    throw new MmpoolException("mmpool_open", rc, MismatchDetail(path, o));
                if (rc == (int)ErrorCode.AccessDenied)
                    throw new MmpoolException("mmpool_open", rc, OwnerDetail(path));
                Check("mmpool_open", rc);
                return new Pool(h);
            }
            finally
            {
                if (format != IntPtr.Zero)
                    Marshal.FreeHGlobal(format);
            }
        }

        public static Pool Open(string path) { return Open(path, null); }

        // "pool has 2 slots x 65536 B, asked 3 x 6220800 B", or null when the
        // pool cannot be inspected any more (removed meanwhile). The pool's
        // geometry comes from mmpool_inspect, which reads the header without
        // attaching: no handle entry, no pin, no lock. A field asked as 0
        // means "the pool's" and is shown as "any", as the tool and the
        // Python binding show it.
        static string MismatchDetail(string path, Native.Options asked)
        {
            var info = new Native.Info();
            if (Native.mmpool_inspect(path, ref info, IntPtr.Zero, UIntPtr.Zero, IntPtr.Zero, UIntPtr.Zero) != 0)
                return null;
            CultureInfo c = CultureInfo.InvariantCulture;
            string capacity = asked.slot_capacity != 0 ? asked.slot_capacity.ToString(c) : "any";
            string count = asked.slot_count != 0 ? asked.slot_count.ToString(c) : "any";
            return "pool has " + info.slot_count.ToString(c) + (info.slot_count == 1 ? " slot" : " slots") +
                   " x " + info.slot_capacity.ToString(c) + " B, asked " + count + " x " + capacity + " B";
        }

        // "owned by uid 1234" (Windows: "owned by RID 1001"), or null when the
        // pool cannot be inspected either (no permission to open the file at
        // all, or removed meanwhile). mmpool_inspect attaches to nothing, so
        // the owner rule that refused the open does not stop it.
        static string OwnerDetail(string path)
        {
            var info = new Native.Info();
            if (Native.mmpool_inspect(path, ref info, IntPtr.Zero, UIntPtr.Zero, IntPtr.Zero, UIntPtr.Zero) != 0)
                return null;
            bool windows = Environment.OSVersion.Platform == PlatformID.Win32NT;
            return "owned by " + (windows ? "RID " : "uid ") + info.owner.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>Opens the pool at path, creating it with this geometry if
        /// it does not exist.</summary>
        public static Pool Create(string path, ulong slotCapacity, uint slotCount,
                                  ReadMode readMode = ReadMode.Latest, string format = null)
        {
            return Open(path, new PoolOptions {
                SlotCapacity = slotCapacity, SlotCount = slotCount, Create = true,
                ReadMode = readMode, Format = format
            });
        }

        /// <summary>Retires the pool at path and removes it.</summary>
        public static void Unlink(string path)
        {
            CheckPath(path);
            Check("mmpool_unlink", Native.mmpool_unlink(path));
        }

        // A NUL would cut the path short in C: another pool's path.
        static void CheckPath(string path)
        {
            if (path == null)
                throw new ArgumentNullException("path");
            if (path.IndexOf('\0') >= 0)
                throw new ArgumentException("path contains a NUL character", "path");
        }

        /// <summary>The monotonic clock of frame timestamps, in ns.</summary>
        public static ulong NowNs() { return Native.mmpool_now_ns(); }

        public static string Version { get { return Marshal.PtrToStringAnsi(Native.mmpool_version()); } }

        /// <summary>True once Dispose was called (the C handle itself closes
        /// when the pool's last loan ends).</summary>
        public bool IsClosed { get { return disposed; } }

        // Copying calls.

        /// <summary>Copies data in as the next frame; false when no slot is
        /// free (EBUSY).</summary>
        public unsafe bool TryWrite(ReadOnlySpan<byte> data)
        {
            fixed (byte* p = &MemoryMarshal.GetReference(data))
                return OkOrNothing("mmpool_try_write", Native.mmpool_try_write(Handle, p, (UIntPtr)data.Length));
        }

        /// <summary>Copies data in as the next frame, waiting at most
        /// timeoutMs for a free slot (then MmpoolException TimedOut).</summary>
        public unsafe void Write(ReadOnlySpan<byte> data, int timeoutMs = WaitForever)
        {
            fixed (byte* p = &MemoryMarshal.GetReference(data))
                Check("mmpool_write", Native.mmpool_write(Handle, p, (UIntPtr)data.Length, timeoutMs));
        }

        /// <summary>Copies the next frame into buffer. A frame larger than
        /// the buffer: MmpoolException NoSpace, and the frame stays unread.</summary>
        public unsafe FrameInfo Read(Span<byte> buffer, int timeoutMs = WaitForever)
        {
            var f = new Native.Frame();
            fixed (byte* p = &MemoryMarshal.GetReference(buffer))
                Check("mmpool_read", Native.mmpool_read(Handle, p, (UIntPtr)buffer.Length, ref f, timeoutMs));
            return f.ToInfo();
        }

        /// <summary>As Read(buffer), but false when no new frame came within
        /// timeoutMs (default: do not wait).</summary>
        public unsafe bool TryRead(Span<byte> buffer, out FrameInfo info, int timeoutMs = 0)
        {
            var f = new Native.Frame();
            bool got;
            fixed (byte* p = &MemoryMarshal.GetReference(buffer))
                got = OkOrNothing("mmpool_read", Native.mmpool_read(Handle, p, (UIntPtr)buffer.Length, ref f, timeoutMs));
            info = got ? f.ToInfo() : default(FrameInfo);
            return got;
        }

        /// <summary>Reads the next frame into a new array of its size (one
        /// copy, made from a read loan).</summary>
        public Frame Read(int timeoutMs = WaitForever)
        {
            using (var loan = AcquireRead(timeoutMs))
                return loan.ToFrame();
        }

        /// <summary>As Read(), but false (and frame null) when no new frame came
        /// within timeoutMs (default: do not wait).</summary>
        public bool TryRead(out Frame frame, int timeoutMs = 0)
        {
            ReadLoan loan;
            frame = null;
            if (!TryAcquireRead(out loan, timeoutMs))
                return false;
            using (loan)
                frame = loan.ToFrame();
            return true;
        }

        // Zero-copy loans.

        /// <summary>Borrows the oldest free slot to fill in place. One write
        /// loan per handle at a time (a second: InvalidArgument).</summary>
        public WriteLoan AcquireWrite(int timeoutMs = WaitForever)
        {
            WriteLoan loan;
            int rc = AcquireWriteRc(timeoutMs, out loan);
            Check("mmpool_write_acquire", rc);
            return loan;
        }

        public bool TryAcquireWrite(out WriteLoan loan, int timeoutMs = 0)
        {
            return OkOrNothing("mmpool_write_acquire", AcquireWriteRc(timeoutMs, out loan));
        }

        unsafe int AcquireWriteRc(int timeoutMs, out WriteLoan loan)
        {
            void* data;
            UIntPtr cap;
            loan = null;
            int rc = Native.mmpool_write_acquire(Handle, out data, out cap, timeoutMs);
            if (rc == 0)
                loan = new WriteLoan(handle, (IntPtr)data, (ulong)cap);
            return rc;
        }

        /// <summary>Borrows the next frame in place; its slot is not
        /// overwritten until the loan is disposed.</summary>
        public ReadLoan AcquireRead(int timeoutMs = WaitForever)
        {
            ReadLoan loan;
            Check("mmpool_read_acquire", AcquireReadRc(timeoutMs, out loan));
            return loan;
        }

        public bool TryAcquireRead(out ReadLoan loan, int timeoutMs = 0)
        {
            return OkOrNothing("mmpool_read_acquire", AcquireReadRc(timeoutMs, out loan));
        }

        int AcquireReadRc(int timeoutMs, out ReadLoan loan)
        {
            var view = new Native.View();
            loan = null;
            int rc = Native.mmpool_read_acquire(Handle, ref view, timeoutMs);
            if (rc == 0)
                loan = new ReadLoan(handle, view);
            return rc;
        }

        // Asynchronous reading.

        /// <summary>Reads the next frame into a new array, as Read() does,
        /// without holding a thread while no frame is there: the read runs
        /// when the pool's event handle is ready. Outcomes: the frame; a
        /// canceled task (TaskCanceledException) when cancellationToken
        /// fires first, having taken no frame, the pool usable as before;
        /// MmpoolException Canceled after Interrupt(), Stale once the pool is
        /// unlinked; ObjectDisposedException when the pool is disposed
        /// meanwhile. One ReadAsync at a time per pool (a second before the
        /// first ended: InvalidOperationException); until its task ends it
        /// counts as a call on the pool, which only Interrupt and Dispose may
        /// overlap. A frame already there is taken at once, as Read(0)
        /// would; an Interrupt made while no ReadAsync waits stays pending
        /// and ends the next one at its first wake-up (or the next blocking
        /// call).</summary>
        public Task<Frame> ReadAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            if (disposed)
                throw new ObjectDisposedException("Mmpool.Pool");
            if (Interlocked.CompareExchange(ref readingAsync, 1, 0) != 0)
                throw new InvalidOperationException("a ReadAsync on this pool has not ended yet");
            return ReadWhenReady(cancellationToken);
        }

        async Task<Frame> ReadWhenReady(CancellationToken token)
        {
            try
            {
                // The first read does not wait. Those after a wake-up wait
                // up to 1 ms: an Interrupt makes the event ready once, and
                // only a read with a timeout reports (and uses up) it; one
                // without would find nothing and wait again, for ever. A
                // frame or an interrupt returns at once; the millisecond is
                // spent only on a spurious readiness.
                int timeoutMs = 0;
                for (;;)
                {
                    token.ThrowIfCancellationRequested();
                    ReadLoan loan;
                    int rc = AcquireReadRc(timeoutMs, out loan);
                    if (rc == 0)
                    {
                        using (loan)
                            return loan.ToFrame();
                    }
                    if (rc != (int)ErrorCode.Again && rc != (int)ErrorCode.TimedOut)
                        throw new MmpoolException("mmpool_read_acquire", rc);
                    await WaitForEvent(token).ConfigureAwait(false);
                    timeoutMs = 1;
                }
            }
            finally
            {
                Volatile.Write(ref readingAsync, 0);
            }
        }

        // Until the event handle is ready (the read that finds nothing has
        // re-armed it), the token fires, or Dispose ends the wait.
        async Task WaitForEvent(CancellationToken token)
        {
            EventWait wait = EventWait.Start(Handle, token);
            // Either Dispose sees the wait, or this sees disposed: both are
            // full fences.
            Interlocked.Exchange(ref waiting, wait);
            if (disposed)
                wait.End(new ObjectDisposedException("Mmpool.Pool"));
            try
            {
                using (token.Register(w => ((EventWait)w).End(null), wait))
                    await wait.Ready.ConfigureAwait(false);
            }
            finally
            {
                Interlocked.CompareExchange(ref waiting, null, wait);
            }
        }

        // The rest.

        /// <summary>Any thread: a blocked call on this pool throws
        /// MmpoolException Canceled; if none is blocked, the next one does.</summary>
        public void Interrupt() { Check("mmpool_interrupt", Native.mmpool_interrupt(Handle)); }

        /// <summary>The newest committed seq, one load from the shared
        /// header and no system call (mmpool_last_seq): a hint for a loop
        /// that watches for the next frame itself; the read that follows
        /// checks it. MmpoolException Stale once the pool was unlinked. Any
        /// thread, without waiting for a call running on this pool.</summary>
        public ulong LastSeq()
        {
            Check("mmpool_last_seq", Native.mmpool_last_seq(Handle, out ulong seq));
            return seq;
        }

        /// <summary>Drops every frame that no handle holds.</summary>
        public void Flush() { Check("mmpool_flush", Native.mmpool_flush(Handle)); }

        public unsafe PoolStats Stats
        {
            get
            {
                var s = new Native.Stats();
                Check("mmpool_stat", Native.mmpool_stat(Handle, ref s));
                int n = 0;
                while (n < 64 && s.format[n] != 0)
                    n++;
                return new PoolStats {
                    SlotCapacity = s.slot_capacity, SlotCount = s.slot_count,
                    ReadMode = (ReadMode)s.read_mode, LastSeq = s.last_seq,
                    Format = Encoding.UTF8.GetString(s.format, n),
                    Owner = s.owner, Created = s.created != 0,
                    Handles = s.handles, Writers = s.writers
                };
            }
        }

        /// <summary>Closes the handle, at once or, while loans are active,
        /// when the last of them ends. Idempotent.</summary>
        public void Dispose()
        {
            if (disposed)
                return;
            disposed = true;
            Thread.MemoryBarrier(); // see WaitForEvent
            EventWait wait = waiting;
            if (wait != null)
                wait.End(new ObjectDisposedException("Mmpool.Pool"));
            handle.Dispose();
        }

        internal PoolHandle Handle
        {
            get
            {
                if (disposed)
                    throw new ObjectDisposedException("Mmpool.Pool");
                return handle;
            }
        }

        internal static void Check(string call, int rc)
        {
            if (rc != 0)
                throw new MmpoolException(call, rc);
        }

        static bool OkOrNothing(string call, int rc)
        {
            if (rc == 0)
                return true;
            if (rc == (int)ErrorCode.Again || rc == (int)ErrorCode.Busy || rc == (int)ErrorCode.TimedOut)
                return false;
            throw new MmpoolException(call, rc);
        }
    }

    /// <summary>A slot borrowed for writing in place. Commit(n) publishes
    /// its first n bytes; Dispose without Commit aborts it.</summary>
    public sealed class WriteLoan : IDisposable
    {
        readonly LoanRef pool;
        readonly IntPtr data;
        readonly ulong capacity;

        internal WriteLoan(PoolHandle handle, IntPtr data, ulong capacity)
        {
            pool = new LoanRef(handle);
            this.data = data;
            this.capacity = capacity;
        }

        public bool IsActive { get { return pool.Active; } }
        /// <summary>The slot's capacity in bytes.</summary>
        public ulong Capacity { get { return capacity; } }
        /// <summary>The slot's start (4096-byte aligned).</summary>
        public IntPtr Pointer { get { Live(); return data; } }

        /// <summary>The whole slot. Slots over 2 GiB: use Pointer.</summary>
        public unsafe Span<byte> Span
        {
            get
            {
                Live();
                if (capacity > int.MaxValue)
                    throw new NotSupportedException("slot larger than a Span: use Pointer");
                return new Span<byte>((void*)data, (int)capacity);
            }
        }

        /// <summary>Publishes the first length bytes and ends the loan.
        /// length over Capacity: MmpoolException TooBig, the loan stays.
        /// Any other failure (Stale, BadFormat, Canceled) has ended the loan
        /// too, unpublished, before it throws: see CommitEndsLoan.</summary>
        public void Commit(long length)
        {
            Live();
            if (length < 0)
                throw new ArgumentOutOfRangeException("length");
            int rc = Native.mmpool_write_commit(pool.Raw, (UIntPtr)(ulong)length);
            if (CommitEndsLoan(rc))
                pool.End(); // the C side gave the slot up: its Span must not reach it
            Pool.Check("mmpool_write_commit", rc);
        }

        // Whether mmpool_write_commit ended the loan, by its return code
        // (mmpool.h, src/io.c). The one table of this binding:
        //   0              published, ended
        //   MMPOOL_ESTALE  pool unlinked: ended, unpublished
        //   MMPOOL_EFORMAT damaged pool: ended, unpublished
        //   MMPOOL_ECANCELED interrupted waiting for the commit lock: ended
        //   MMPOOL_EINVAL  the C handle holds no loan (nothing left to end)
        //   MMPOOL_E2BIG   length over the capacity: NOT ended, still held
        // Every code but E2BIG ends it (also one from a failed wait, which
        // the C side aborts as well). mmpool_write_abort and
        // mmpool_read_release end their loan whatever they return.
        internal static bool CommitEndsLoan(int rc)
        {
            return rc != (int)ErrorCode.TooBig;
        }

        /// <summary>Gives the slot back unpublished and ends the loan.</summary>
        public void Abort()
        {
            Live();
            int rc = Native.mmpool_write_abort(pool.Raw);
            pool.End();
            Pool.Check("mmpool_write_abort", rc);
        }

        public void Dispose()
        {
            if (pool.Active)
                Native.mmpool_write_abort(pool.Raw);
            pool.End();
        }

        void Live()
        {
            if (!pool.Active)
                throw new MmpoolException("write loan", (int)ErrorCode.InvalidArgument);
        }
    }

    /// <summary>A loan's reference on its pool's handle: taken at acquire,
    /// dropped once when the loan ends (which closes the handle if the pool
    /// was disposed meanwhile). The raw handle stays usable while it is
    /// held, even after the pool's Dispose.</summary>
    internal sealed class LoanRef
    {
        PoolHandle handle;

        internal LoanRef(PoolHandle handle)
        {
            bool added = false;
            handle.DangerousAddRef(ref added);
            this.handle = handle;
        }

        internal bool Active { get { return handle != null; } }
        internal IntPtr Raw { get { return handle.DangerousGetHandle(); } }

        internal void End()
        {
            PoolHandle h = handle;
            handle = null;
            if (h != null)
                h.DangerousRelease();
        }
    }

    /// <summary>A frame borrowed in place; Dispose (or Release) gives its
    /// slot back.</summary>
    public sealed class ReadLoan : IDisposable
    {
        readonly LoanRef pool;
        Native.View view;

        internal ReadLoan(PoolHandle handle, Native.View view)
        {
            pool = new LoanRef(handle);
            this.view = view;
        }

        public bool IsActive { get { return pool.Active; } }
        public ulong Seq { get { return view.frame.seq; } }
        public ulong TimestampNs { get { return view.frame.timestamp_ns; } }
        public ulong Dropped { get { return view.frame.dropped; } }
        public ulong Length { get { return view.frame.len; } }
        public FrameInfo Info { get { return view.frame.ToInfo(); } }
        public IntPtr Pointer { get { Live(); return view.data; } }

        /// <summary>The frame in place (read-only).</summary>
        public unsafe ReadOnlySpan<byte> Span
        {
            get
            {
                Live();
                if (view.frame.len > int.MaxValue)
                    throw new NotSupportedException("frame larger than a Span: use Pointer");
                return new ReadOnlySpan<byte>((void*)view.data, (int)view.frame.len);
            }
        }

        /// <summary>Gives the slot back and ends the loan.</summary>
        public void Release()
        {
            Live();
            int rc = Native.mmpool_read_release(pool.Raw, ref view);
            pool.End();
            Pool.Check("mmpool_read_release", rc);
        }

        public void Dispose()
        {
            if (pool.Active)
                Native.mmpool_read_release(pool.Raw, ref view);
            pool.End();
        }

        internal Frame ToFrame()
        {
            return new Frame {
                Data = Span.ToArray(), Seq = Seq, TimestampNs = TimestampNs, Dropped = Dropped
            };
        }

        void Live()
        {
            if (!pool.Active)
                throw new MmpoolException("read loan", (int)ErrorCode.InvalidArgument);
        }
    }

    /// <summary>One wait of a ReadAsync for its pool's event handle. Ready
    /// completes when the handle is ready (or may be: readiness can be
    /// spurious), or ends first through End: canceled, or faulted with the
    /// error given. Its continuations never run on the thread that
    /// completes it.</summary>
    internal abstract class EventWait
    {
        readonly TaskCompletionSource<bool> done =
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly CancellationToken token;
        // Why End was called: Canceled, or the error to fault with; null
        // while the wait is on. Set once.
        object endReason;
        static readonly object Canceled = new object();

        protected EventWait(CancellationToken token) { this.token = token; }

        internal Task Ready { get { return done.Task; } }

        /// <summary>Starts a wait on the event handle of pool, which must
        /// be open; the read before it found nothing, so the handle is
        /// armed.</summary>
        internal static EventWait Start(PoolHandle pool, CancellationToken token)
        {
            if (Environment.OSVersion.Platform == PlatformID.Win32NT)
                return new WindowsEventWait(pool, token);
            return EventThread.Watch(pool, token);
        }

        /// <summary>Any thread, any number of times: ends the wait unless it
        /// has ended already; error null: canceled.</summary>
        internal void End(Exception error)
        {
            if (Interlocked.CompareExchange(ref endReason, (object)error ?? Canceled, null) == null)
                Ending();
        }

        /// <summary>Whether End was called.</summary>
        internal bool Ended { get { return Volatile.Read(ref endReason) != null; } }

        /// <summary>What the platform does when End is called: stop watching
        /// the handle, then call Finish.</summary>
        protected abstract void Ending();

        /// <summary>Completes Ready: as End said if it was called, else as
        /// ready. Once; later calls do nothing.</summary>
        protected void Finish()
        {
            object reason = Volatile.Read(ref endReason);
            if (reason == null)
                done.TrySetResult(true);
            else if (reason == Canceled)
                done.TrySetCanceled(token);
            else
                done.TrySetException((Exception)reason);
        }

        /// <summary>The event handle of pool (mmpool_event_handle), with a
        /// reference on pool taken for the caller: it must release it
        /// (DangerousRelease) once it no longer uses the handle.</summary>
        protected static IntPtr EventHandleOf(PoolHandle pool)
        {
            bool added = false;
            pool.DangerousAddRef(ref added);
            IntPtr h;
            int rc = Native.mmpool_event_handle(pool.DangerousGetHandle(), out h);
            if (rc != 0)
            {
                pool.DangerousRelease();
                throw new MmpoolException("mmpool_event_handle", rc);
            }
            return h;
        }
    }

    /// <summary>Windows: the thread pool's wait thread watches a duplicate
    /// of the event HANDLE, which this wait owns, so that the registration
    /// never outlives the handle it waits on, whatever happens to the pool
    /// meanwhile.</summary>
    internal sealed class WindowsEventWait : EventWait
    {
        readonly EventCopy copy;
        readonly object gate = new object();
        RegisteredWaitHandle registration; // under gate
        int finished;

        sealed class EventCopy : WaitHandle
        {
            internal EventCopy(SafeWaitHandle h) { SafeWaitHandle = h; }
        }

        internal WindowsEventWait(PoolHandle pool, CancellationToken token) : base(token)
        {
            IntPtr dup;
            IntPtr h = EventHandleOf(pool);
            try
            {
                IntPtr self = Kernel32.GetCurrentProcess();
                if (!Kernel32.DuplicateHandle(self, h, self, out dup, 0, false, Kernel32.DuplicateSameAccess))
                    throw new MmpoolException("DuplicateHandle", (int)ErrorCode.System);
            }
            finally
            {
                pool.DangerousRelease();
            }
            copy = new EventCopy(new SafeWaitHandle(dup, true));
            lock (gate)
                registration = ThreadPool.RegisterWaitForSingleObject(
                    copy, (state, timedOut) => ((WindowsEventWait)state).Stop(), this, Timeout.Infinite, true);
        }

        protected override void Ending() { Stop(); }

        // Once, from the callback or from End: unregisters (the thread pool
        // keeps the copy open until it no longer waits on it) and completes.
        void Stop()
        {
            if (Interlocked.Exchange(ref finished, 1) != 0)
                return;
            lock (gate) // the constructor may still be storing registration
                registration.Unregister(null);
            copy.Dispose();
            Finish();
        }
    }

    /// <summary>Linux (the library's POSIX event handles are Linux
    /// sockets): one background thread for the process, started by the
    /// first wait, poll()s the event descriptors of every waiting pool and
    /// an eventfd that Watch and End write to make it look at its list
    /// again. Each wait holds a reference on its pool's handle, which this
    /// thread drops only once the descriptor is out of its poll set: a pool
    /// disposed meanwhile (which closes the descriptor) is closed
    /// then.</summary>
    internal static class EventThread
    {
        sealed class Wait : EventWait
        {
            internal readonly PoolHandle Handle;
            internal readonly int Fd;

            internal Wait(PoolHandle pool, CancellationToken token) : base(token)
            {
                Handle = pool;
                Fd = (int)EventHandleOf(pool);
            }

            protected override void Ending() { WakeUp(); }

            // On the thread, once the wait is out of the list.
            internal void Close()
            {
                Handle.DangerousRelease();
                Finish();
            }
        }

        static readonly object gate = new object();
        static readonly List<Wait> waits = new List<Wait>(); // under gate
        static int wakeFd = -1;                               // set once, under gate

        internal static EventWait Watch(PoolHandle pool, CancellationToken token)
        {
            lock (gate)
            {
                if (wakeFd < 0)
                    StartThread();
                waits.Add(new Wait(pool, token));
                WakeUp();
                return waits[waits.Count - 1];
            }
        }

        static void StartThread()
        {
            int fd = Libc.eventfd(0, Libc.EfdCloexec);
            if (fd < 0)
                throw new MmpoolException("eventfd", (int)ErrorCode.System);
            var thread = new Thread(Run);
            thread.IsBackground = true;
            thread.Name = "mmpool events";
            thread.Start();
            wakeFd = fd;
        }

        static unsafe void WakeUp()
        {
            ulong one = 1;
            Libc.write(Volatile.Read(ref wakeFd), &one, (UIntPtr)8);
        }

        static unsafe void Run()
        {
            var watched = new List<Wait>();
            var ended = new List<Wait>();
            var fds = new Libc.PollFd[8];
            int wake;
            lock (gate)
                wake = wakeFd;
            for (;;)
            {
                // The list, less the waits that End has ended.
                watched.Clear();
                lock (gate)
                {
                    int kept = 0;
                    foreach (Wait w in waits)
                    {
                        if (w.Ended)
                            ended.Add(w);
                        else
                            watched.Add(w);
                    }
                    foreach (Wait w in watched)
                        waits[kept++] = w;
                    waits.RemoveRange(kept, waits.Count - kept);
                }
                foreach (Wait w in ended)
                    w.Close();
                ended.Clear();

                if (fds.Length < watched.Count + 1)
                    fds = new Libc.PollFd[2 * (watched.Count + 1)];
                fds[0] = new Libc.PollFd { fd = wake, events = Libc.PollIn };
                for (int i = 0; i < watched.Count; i++)
                    fds[i + 1] = new Libc.PollFd { fd = watched[i].Fd, events = Libc.PollIn };
                int n;
                fixed (Libc.PollFd* p = fds)
                    n = Libc.poll(p, (UIntPtr)(watched.Count + 1), -1);
                if (n < 0)
                {
                    // EINTR: a signal (Mono's collector sends them). Anything
                    // else would come back at once: end every wait with it,
                    // and do not spin.
                    if (Marshal.GetLastWin32Error() != Libc.Eintr)
                    {
                        foreach (Wait w in watched)
                            w.End(new MmpoolException("poll", (int)ErrorCode.System));
                        Thread.Sleep(100);
                    }
                    continue;
                }
                if (fds[0].revents != 0)
                {
                    ulong count;
                    Libc.read(wake, &count, (UIntPtr)8);
                }
                for (int i = 0; i < watched.Count; i++)
                {
                    if (fds[i + 1].revents == 0)
                        continue;
                    lock (gate)
                        waits.Remove(watched[i]);
                    watched[i].Close();
                }
            }
        }
    }

    /// <summary>The C library calls of EventThread (Linux).</summary>
    internal static unsafe class Libc
    {
        internal const short PollIn = 1;        // POLLIN
        internal const int EfdCloexec = 0x80000; // EFD_CLOEXEC, O_CLOEXEC
        internal const int Eintr = 4;           // EINTR

        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int fd;
            public short events;
            public short revents;
        }

        [DllImport("libc", SetLastError = true)] internal static extern int poll(PollFd* fds, UIntPtr count, int timeoutMs);
        [DllImport("libc", SetLastError = true)] internal static extern int eventfd(uint initial, int flags);
        [DllImport("libc", SetLastError = true)] internal static extern IntPtr read(int fd, void* buf, UIntPtr count);
        [DllImport("libc", SetLastError = true)] internal static extern IntPtr write(int fd, void* buf, UIntPtr count);
    }

    /// <summary>The Windows calls of WindowsEventWait.</summary>
    internal static class Kernel32
    {
        internal const uint DuplicateSameAccess = 2; // DUPLICATE_SAME_ACCESS

        [DllImport("kernel32.dll")] internal static extern IntPtr GetCurrentProcess();
        [DllImport("kernel32.dll", SetLastError = true)]
        internal static extern bool DuplicateHandle(IntPtr sourceProcess, IntPtr source, IntPtr targetProcess,
                                                    out IntPtr target, uint access, bool inherit, uint options);
    }

    /// <summary>The C declarations of mmpool.h, field for field.</summary>
    internal static unsafe class Native
    {
        const string Lib = "mmpool";

        // mmpool_options.flags.
        internal const uint Create = 1u << 0;    // MMPOOL_CREATE
        internal const uint Excl = 1u << 1;      // MMPOOL_EXCL
        internal const uint AnyOwner = 1u << 2;  // MMPOOL_ANY_OWNER

        [StructLayout(LayoutKind.Sequential)]
        internal struct Options
        {
            public ulong slot_capacity;
            public uint slot_count;
            public uint flags;
            public uint mode;
            public uint read_mode;
            public IntPtr format;
            public ulong spin_ns;
            public ulong reserved0, reserved1, reserved2;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct Frame
        {
            public ulong seq;
            public ulong timestamp_ns;
            public ulong len;
            public ulong dropped;
            public ulong reserved0, reserved1;

            public FrameInfo ToInfo()
            {
                return new FrameInfo { Seq = seq, TimestampNs = timestamp_ns, Length = len, Dropped = dropped };
            }
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct View
        {
            public IntPtr data;
            public Frame frame;
            public ulong reserved0, reserved1;
        }

        [StructLayout(LayoutKind.Sequential)]
        internal struct Stats
        {
            public ulong slot_capacity;
            public uint slot_count;
            public uint read_mode;
            public ulong last_seq;
            public fixed byte format[64];
            public ulong owner;      // offset 88
            public uint created;     // offset 96
            public uint handles;     // offset 100
            public uint writers;     // offset 104
            public uint reserved1;
            public ulong reserved2;
        }

        /// <summary>mmpool_info: the fields up to owner, then reserved.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct Info
        {
            public uint version_major;
            public uint version_minor;
            public ulong slot_capacity;
            public uint slot_count;
            public uint handle_count;
            public ulong slot_stride;
            public ulong file_size;
            public ulong created_ns;
            public ulong last_seq;
            public uint commit_lock;
            public uint retired;
            public fixed byte format[64];
            public ulong owner;      // offset 128
            public ulong reserved0, reserved1, reserved2;
        }

        [DllImport(Lib)] internal static extern int mmpool_open(out PoolHandle pool, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref Options opts);
        [DllImport(Lib)] internal static extern void mmpool_close(IntPtr pool);
        [DllImport(Lib)] internal static extern int mmpool_unlink([MarshalAs(UnmanagedType.LPUTF8Str)] string path);
        [DllImport(Lib)] internal static extern int mmpool_flush(PoolHandle pool);
        [DllImport(Lib)] internal static extern int mmpool_stat(PoolHandle pool, ref Stats stats);
        [DllImport(Lib)] internal static extern int mmpool_interrupt(PoolHandle pool);
        [DllImport(Lib)] internal static extern int mmpool_last_seq(PoolHandle pool, out ulong seq);
        [DllImport(Lib)] internal static extern int mmpool_write(PoolHandle pool, byte* data, UIntPtr len, int timeoutMs);
        [DllImport(Lib)] internal static extern int mmpool_try_write(PoolHandle pool, byte* data, UIntPtr len);
        [DllImport(Lib)] internal static extern int mmpool_read(PoolHandle pool, byte* buf, UIntPtr cap, ref Frame frame, int timeoutMs);
        [DllImport(Lib)] internal static extern int mmpool_write_acquire(PoolHandle pool, out void* data, out UIntPtr cap, int timeoutMs);
        [DllImport(Lib)] internal static extern int mmpool_read_acquire(PoolHandle pool, ref View view, int timeoutMs);
        // For loans, which hold their own reference on the handle (LoanRef)
        // and must end even after their pool's Dispose.
        [DllImport(Lib)] internal static extern int mmpool_write_commit(IntPtr pool, UIntPtr len);
        [DllImport(Lib)] internal static extern int mmpool_write_abort(IntPtr pool);
        [DllImport(Lib)] internal static extern int mmpool_read_release(IntPtr pool, ref View view);
        // For event waits, which hold their own reference on the handle.
        [DllImport(Lib)] internal static extern int mmpool_event_handle(IntPtr pool, out IntPtr handle);
        [DllImport(Lib)] internal static extern int mmpool_inspect([MarshalAs(UnmanagedType.LPUTF8Str)] string path, ref Info info,
                                                                  IntPtr slots, UIntPtr slotCap, IntPtr handles, UIntPtr handleCap);
        [DllImport(Lib)] internal static extern ulong mmpool_now_ns();
        [DllImport(Lib)] internal static extern IntPtr mmpool_strerror(int err);
        [DllImport(Lib)] internal static extern IntPtr mmpool_err_name(int err);
        [DllImport(Lib)] internal static extern IntPtr mmpool_version();

        internal static string Describe(int code) { return Marshal.PtrToStringAnsi(mmpool_strerror(code)); }
        internal static string NameOf(int code) { return Marshal.PtrToStringAnsi(mmpool_err_name(code)); }

        /// <summary>A NUL-terminated UTF-8 copy in unmanaged memory; the
        /// caller frees it with Marshal.FreeHGlobal.</summary>
        internal static IntPtr ToUtf8(string s)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(s);
            IntPtr p = Marshal.AllocHGlobal(bytes.Length + 1);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            Marshal.WriteByte(p, bytes.Length, 0);
            return p;
        }
    }
}
