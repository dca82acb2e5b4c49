// Uses an installed Mmpool.Net.dll (mcs -r:.../Mmpool.Net.dll App.cs): creates
// the pool named by args[0], writes one frame through a write loan, reads
// it back with a copy, removes the pool, and prints where the assembly and
// the native library were loaded from, and the library's version:
//   assembly PATH
//   library PATH
//   version X.Y.Z
// Exits 0 on success.
using System;
using System.IO;
using Mmpool;

static class App
{
    // The file the dynamic loader mapped for libmmpool, or null.
    static string NativeLibrary()
    {
        foreach (string line in File.ReadAllLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/');
            if (slash >= 0 && line.IndexOf("libmmpool", slash, StringComparison.Ordinal) >= 0)
                return line.Substring(slash);
        }
        return null;
    }

    static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.Error.WriteLine("usage: mono App.exe POOL_NAME");
            return 2;
        }
        string name = args[0];
        byte[] sent = { 3, 1, 4, 1, 5, 9, 2, 6 };
        try
        {
            // Exclusive: a name clash with another run is an error, not a shared pool.
            using (var pool = Pool.Open(name, new PoolOptions {
                SlotCapacity = 4096, SlotCount = 2, Create = true, Exclusive = true }))
            {
                using (WriteLoan loan = pool.AcquireWrite(1000))
                {
                    sent.AsSpan().CopyTo(loan.Span);
                    loan.Commit(sent.Length);
                }
                Frame f = pool.Read(1000);
                if (f.Seq != 1 || !f.Data.AsSpan().SequenceEqual(sent))
                {
                    Console.Error.WriteLine("read back seq " + f.Seq + ", " + f.Data.Length + " bytes, not the frame written");
                    return 1;
                }
            }
            Pool.Unlink(name);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("App: " + e);
            return 1;
        }
        Console.WriteLine("assembly " + typeof(Pool).Assembly.Location);
        Console.WriteLine("library " + NativeLibrary());
        Console.WriteLine("version " + Pool.Version);
        return 0;
    }
}
