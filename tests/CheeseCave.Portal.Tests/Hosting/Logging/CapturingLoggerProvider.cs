using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace CheeseCave.Portal.Tests.Hosting.Logging;

/// <summary>Keeps every log event's category, formatted message, exception text and structured state values.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _texts = new();

    public IReadOnlyCollection<string> Texts => _texts;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            owner.Add(category, "scope", state, null);
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(category, formatter(state, exception), state, exception);
    }

    private void Add(string category, string message, object? state, Exception? exception)
    {
        _texts.Enqueue($"{category}: {message}");
        if (exception is not null)
        {
            _texts.Enqueue(exception.ToString());
        }

        if (state is IEnumerable<KeyValuePair<string, object?>> values)
        {
            foreach (var (key, value) in values)
            {
                _texts.Enqueue($"{category} {key}={value}");
            }
        }
        else if (state is not null)
        {
            _texts.Enqueue($"{category} state={state}");
        }
    }
}
