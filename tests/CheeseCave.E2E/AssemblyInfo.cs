// Each journey runs its own portal, embedded emulator and browser contexts; on a two-core CI machine two of them at
// once starve each other's circuits into timeouts. One journey at a time keeps the timings meaningful.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
