using BenchmarkDotNet.Running;
using CheeseCave.Benchmarks;

// "--bulk N" runs the measured bulk issuance; anything else goes to BenchmarkDotNet (for example --filter '*').
if (args.Length >= 1 && args[0] == "--bulk")
{
    var count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 20_000;
    return BulkIssuance.Run(count, Console.Out);
}

// "--registrations N [...]" runs the measured device registration benchmark against the in-process emulator.
if (args.Length >= 1 && args[0] == "--registrations")
{
    return await RegistrationBenchmark.RunAsync(args, Console.Out);
}

// "--portal [...]" measures the portal: process start to first page, and every wizard action against the embedded emulator.
if (args.Length >= 1 && args[0] == "--portal")
{
    return await PortalBenchmark.RunAsync(args, Console.Out);
}

// "--csr-load [...]" signs pre-generated CSRs through /api/v1 under one grant with keep-alive clients (issue #10).
if (args.Length >= 1 && args[0] == "--csr-load")
{
    return await CsrLoadBenchmark.RunAsync(args, Console.Out);
}

// "--telemetry N [--devices 1000 --rate 10000 ...]" runs the measured hub telemetry benchmark against the in-process emulator (issue #12).
if (args.Length >= 1 && args[0] == "--telemetry")
{
    return await TelemetryBenchmark.RunAsync(args, Console.Out);
}

// "--telemetry-devices ..." is the devices' own process of "--telemetry ... --devices-process" (started by it).
if (args.Length >= 1 && args[0] == "--telemetry-devices")
{
    return await DeviceProcess.RunChildAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(DeviceIssuanceBenchmarks).Assembly).Run(args);
return 0;
