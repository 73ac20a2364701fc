using Xunit.Abstractions;

namespace CheeseCave.Portal.Tests.Architecture;

/// <summary>
/// The portal's feature folders depend on each other one way only. Run alone, it prints the whole graph:
/// <c>dotnet test tests/CheeseCave.Portal.Tests --filter FullyQualifiedName~FeatureDependencyTests --logger "console;verbosity=detailed"</c>.
/// </summary>
public sealed class FeatureDependencyTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, HashSet<string>> Graph = FeatureDependencies.Graph(typeof(Program).Assembly);

    [Fact]
    public void Feature_folders_have_no_cycles()
    {
        foreach (var (feature, uses) in Graph.OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"{feature} → {string.Join(", ", uses.Order(StringComparer.Ordinal))}");
        }

        var cycles = FeatureDependencies.Cycles(Graph);
        Assert.True(cycles.Count == 0, "Feature folders that use each other: " + string.Join("; ", cycles.Select(c => string.Join(" ⇄ ", c))));
    }

    [Fact]
    public void Approvals_knows_no_setup_slice()
    {
        var uses = Graph.GetValueOrDefault("Approvals") ?? [];
        Assert.DoesNotContain(uses, u => u == "Setups" || u.StartsWith("Setups.", StringComparison.Ordinal));
    }
}
