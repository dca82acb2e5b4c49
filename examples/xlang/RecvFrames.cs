// RecvFrames: the C# receiver of the cross-language demo (Mmpool binding).
// Reads Full-HD BGR frames from the pool in LATEST mode, by copy
// (Pool.TryRead into its own buffer, i.e. mmpool_read) or with --loan in
// place, verifies each (magic, length, checksum, rising numbers) and prints
// a line per second and a summary. The frame layout is the one
// recv_frames.cpp describes.
//
// Usage: mono RecvFrames.exe [--pool NAME] [--seconds S] [--loan]
// (libmmpool.so on LD_LIBRARY_PATH). Stops at the end frame or after S
// seconds (default 60). Exits 0 only if at least one frame arrived and
// none failed verification.
//
// "read" is the time of the call that puts the frame in hand (loan:
// acquire plus release), never time spent waiting: a second handle waits
// for each new frame, and the timed read on the first finds it committed.
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using Mmpool;

static class RecvFrames
{
    const int FrameBytes = 1920 * 1080 * 3;
    const uint Magic = 0x4d4d5044;
    const string Format = "bgr8 1920x1080";
    const string Me = "RecvFrames";

    class Tally
    {
        public ulong Frames, Dropped, Bad;
        public List<ulong> Latency = new List<ulong>(), Read = new List<ulong>();
    }

    struct Checked
    {
        public bool Good, End, Stale;
        public ulong Number, SendNs;
    }

    static string poolName = "mmpool-xlang";
    static double seconds = 60;
    static bool loan;
    static Tally all = new Tally(), second = new Tally();
    static ulong attachedNs, lastNumber, sent;
    static bool ended;
    static int secondsReported;

    static bool ParseArgs(string[] args)
    {
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--loan")
                loan = true;
            else if (args[i] == "--pool" && i + 1 < args.Length)
                poolName = args[++i];
            else if (args[i] == "--seconds" && i + 1 < args.Length)
            {
                if (!double.TryParse(args[++i], System.Globalization.NumberStyles.Float,
                                     System.Globalization.CultureInfo.InvariantCulture, out seconds) || !(seconds > 0))
                    return false;
            }
            else
                return false;
        }
        return poolName.Length > 0;
    }

    // True if the frame is a whole data frame or end frame whose checksum
    // matches: the wrapping sum of all u64 words, its own word taken as 0.
    static unsafe bool Verify(byte* data, ulong length, out uint flags, out ulong number, out ulong sendNs)
    {
        flags = 0;
        number = sendNs = 0;
        if (length < 32)
            return false;
        ulong* words = (ulong*)data;
        flags = *(uint*)(data + 4);
        number = words[1];
        sendNs = words[2];
        ulong expect = (flags & 1) != 0 ? 32UL : (ulong)FrameBytes;
        if (*(uint*)data != Magic || length != expect)
            return false;
        ulong sum = 0;
        long n = (long)(length / 8);
        for (long i = 0; i < n; i++)
            sum += words[i];
        return unchecked(sum - words[3]) == words[3];
    }

    static unsafe Checked Check(byte* data, FrameInfo f)
    {
        var c = new Checked();
        uint flags;
        c.Good = Verify(data, f.Length, out flags, out c.Number, out c.SendNs);
        // Left in the pool by an earlier run; a live sender sends more.
        c.Stale = all.Frames == 0 && f.TimestampNs < attachedNs;
        c.End = c.Good && (flags & 1) != 0;
        if (c.Good && !c.End && c.Number <= lastNumber)
        {
            Console.Error.WriteLine(Me + ": frame " + c.Number + " after frame " + lastNumber);
            c.Good = false;
        }
        return c;
    }

    // Counts a checked frame in hand at nowNs after readNs spent reading
    // it; false at the end of the stream.
    static bool Count(Checked c, FrameInfo f, ulong nowNs, ulong readNs)
    {
        if (c.Stale)
            return true;
        if (c.End)
        {
            ended = true;
            sent = c.Number;
            all.Dropped += f.Dropped;
            return false;
        }
        foreach (Tally t in new[] { all, second })
        {
            t.Frames++;
            t.Dropped += f.Dropped;
            t.Read.Add(readNs);
            if (c.Good)
                t.Latency.Add(nowNs - c.SendNs);
            else
                t.Bad++;
        }
        if (c.Good)
            lastNumber = c.Number;
        else
            Console.Error.WriteLine(Me + ": seq " + f.Seq + " failed verification");
        return true;
    }

    static unsafe bool TakeFrame(Pool reader, byte[] buffer)
    {
        if (!loan)
        {
            FrameInfo f;
            ulong t0 = Pool.NowNs();
            bool got = reader.TryRead(new Span<byte>(buffer), out f);
            ulong t1 = Pool.NowNs();
            if (!got)
                return true;
            Checked c;
            fixed (byte* p = buffer)
                c = Check(p, f);
            return Count(c, f, t1, t1 - t0);
        }
        ReadLoan l;
        ulong a0 = Pool.NowNs();
        bool held = reader.TryAcquireRead(out l);
        ulong a1 = Pool.NowNs();
        if (!held)
            return true;
        FrameInfo info = l.Info;
        Checked lc = Check((byte*)l.Pointer, info);
        ulong r0 = Pool.NowNs();
        l.Release();
        ulong r1 = Pool.NowNs();
        return Count(lc, info, a1, (a1 - a0) + (r1 - r0));
    }

    // Nearest-rank percentile in microseconds; sorts v. 0 when empty.
    static double PercentileUs(List<ulong> v, double p)
    {
        if (v.Count == 0)
            return 0;
        v.Sort();
        int rank = (int)Math.Ceiling(p / 100.0 * v.Count);
        rank = Math.Max(1, Math.Min(v.Count, rank));
        return v[rank - 1] / 1000.0;
    }

    static string Us(double us) { return us.ToString("F1", System.Globalization.CultureInfo.InvariantCulture); }

    static void ReportSecond()
    {
        secondsReported++;
        Console.WriteLine("[" + Me + "] " + secondsReported.ToString().PadLeft(3) + " s  frames " +
                          second.Frames.ToString().PadLeft(3) + "  fps " + Us(second.Frames).PadLeft(5) +
                          "  dropped " + second.Dropped + "  latency p50 " + Us(PercentileUs(second.Latency, 50)).PadLeft(8) +
                          " us  p99 " + Us(PercentileUs(second.Latency, 99)).PadLeft(8) + " us  read median " +
                          Us(PercentileUs(second.Read, 50)).PadLeft(8) + " us");
        second = new Tally();
    }

    static void Run(Pool reader, Pool waiter, byte[] buffer)
    {
        ulong start = Pool.NowNs();
        ulong deadline = start + (ulong)(seconds * 1e9);
        ulong nextReport = start + 1000000000UL;
        for (;;)
        {
            ulong now = Pool.NowNs();
            while (now >= nextReport)
            {
                ReportSecond();
                nextReport += 1000000000UL;
            }
            if (now >= deadline)
            {
                Console.Error.WriteLine(Me + ": " + seconds + " s passed without an end frame, stopping");
                return;
            }
            int waitMs = (int)((Math.Min(nextReport, deadline) - now) / 1000000UL) + 1;
            // The waiter borrows the new frame and gives it back at once:
            // only a wake-up, so the reader's call below never waits.
            ReadLoan w;
            if (!waiter.TryAcquireRead(out w, waitMs))
                continue;
            w.Dispose();
            if (!TakeFrame(reader, buffer))
                return;
        }
    }

    static void Summary()
    {
        if (second.Frames != 0)
            ReportSecond();
        Console.WriteLine("[" + Me + "] summary (" + (loan ? "loan" : "copy") + " path): frames " + all.Frames +
                          "  dropped " + all.Dropped + "  failed " + all.Bad + "  latency p50 " +
                          Us(PercentileUs(all.Latency, 50)) + " us  p99 " + Us(PercentileUs(all.Latency, 99)) +
                          " us  read median " + Us(PercentileUs(all.Read, 50)) + " us  end frame " +
                          (ended ? "yes (frames sent " + sent + ")" : "no"));
    }

    static Pool OpenPool()
    {
        return Pool.Open(poolName, new PoolOptions {
            SlotCapacity = FrameBytes, SlotCount = 3, Create = true,
            ReadMode = ReadMode.Latest, Format = Format
        });
    }

    static int Main(string[] args)
    {
        if (!ParseArgs(args))
        {
            Console.Error.WriteLine("usage: mono RecvFrames.exe [--pool NAME] [--seconds S] [--loan]");
            return 2;
        }
        if (!BitConverter.IsLittleEndian)
        {
            Console.Error.WriteLine(Me + ": the frame layout is little-endian; this host is not");
            return 1;
        }
        try
        {
            using (Pool reader = OpenPool())
            using (Pool waiter = OpenPool())
            {
                string format = reader.Stats.Format;
                if (format != Format)
                {
                    Console.Error.WriteLine(Me + ": pool " + poolName + " holds \"" + format + "\", not \"" + Format + "\"");
                    return 1;
                }
                byte[] buffer = loan ? null : new byte[FrameBytes];
                attachedNs = Pool.NowNs();
                Run(reader, waiter, buffer);
            }
        }
        catch (MmpoolException e)
        {
            Console.Error.WriteLine(Me + ": " + e.Message);
            Summary();
            return 1;
        }
        Summary();
        return all.Frames > 0 && all.Bad == 0 ? 0 : 1;
    }
}
