namespace Dermxai.Hardening.Tests.Support;

/// <summary>A process's memory and CPU time as Linux accounts them (/proc/PID/status and /proc/PID/stat).</summary>
internal sealed class ProcessProbe(int pid)
{
    internal static ProcessProbe Self => new(Environment.ProcessId);

    internal static bool Available => File.Exists("/proc/self/status");

    /// <summary>Resident set size now, MiB.</summary>
    internal double RssMiB => StatusKiB("VmRSS:") / 1024.0;

    /// <summary>The largest resident set size so far, MiB.</summary>
    internal double PeakRssMiB => StatusKiB("VmHWM:") / 1024.0;

    /// <summary>User plus system CPU time used so far, seconds.</summary>
    internal double CpuSeconds
    {
        get
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the parenthesised command name (which may hold spaces): utime is field 14, stime 15.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
        }
    }

    private long StatusKiB(string key)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        return 0;
    }
}
