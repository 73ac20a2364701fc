using System.Text.Json;
using System.Text.Unicode;
using CheeseCave.Emulator.Device;

namespace CheeseCave.Emulator.Hub;

/// <summary>
/// Writes one telemetry message as the service side reads it:
/// <c>{sequenceNumber, deviceId, enqueuedTimeUtc, properties, systemProperties, body | bodyBase64}</c>. The body is
/// the JSON the device sent (copied as it is, without building a tree), else its text, else base64 when it is not
/// UTF-8. Written straight into the response, because the stream endpoint writes thousands of these per second.
/// </summary>
internal static class TelemetryJsonWriter
{
    public static void Write(Utf8JsonWriter writer, TelemetryMessage message)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(message);
        writer.WriteStartObject();
        writer.WriteNumber("sequenceNumber"u8, message.SequenceNumber);
        writer.WriteString("deviceId"u8, message.DeviceId);
        writer.WriteString("enqueuedTimeUtc"u8, RegistrationJson.Timestamp(message.EnqueuedTime));
        WriteProperties(writer, "properties"u8, message.Properties);
        WriteProperties(writer, "systemProperties"u8, message.SystemProperties);
        WriteBody(writer, message.Body);
        writer.WriteEndObject();
    }

    private static void WriteProperties(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyDictionary<string, string> properties)
    {
        writer.WriteStartObject(name);
        foreach (var (key, value) in properties)
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    private static void WriteBody(Utf8JsonWriter writer, byte[] body)
    {
        if (!Utf8.IsValid(body))
        {
            writer.WriteBase64String("bodyBase64"u8, body);
            return;
        }

        writer.WritePropertyName("body"u8);
        if (!IsJson(body))
        {
            writer.WriteStringValue(body.AsSpan()); // UTF-8 text
        }
        else if (body.AsSpan().IndexOfAny((byte)'\r', (byte)'\n') < 0)
        {
            writer.WriteRawValue(body, skipInputValidation: true); // checked by IsJson
        }
        else
        {
            // Re-written without line breaks: an event-stream data line must stay one line.
            using var document = JsonDocument.Parse(body);
            document.RootElement.WriteTo(writer);
        }
    }

    private static bool IsJson(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return false;
        var reader = new Utf8JsonReader(body);
        try
        {
            var tokens = 0;
            while (reader.Read())
            {
                tokens++;
            }

            return tokens > 0;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
