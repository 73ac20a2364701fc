using MudBlazor;

namespace CheeseCave.Portal.Components.Layout;

/// <summary>The portal's MudBlazor theme: warm cheese tones on a dark cave app bar, system fonts (no web fonts).</summary>
public static class PortalTheme
{
    private static readonly string[] SystemFonts =
        ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial", "sans-serif"];

    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#9a5b00",
            Secondary = "#2f7a68",
            Tertiary = "#6d5c4e",
            AppbarBackground = "#2b211c",
            AppbarText = "#fff8e6",
            Background = "#faf6ef",
            Surface = "#ffffff",
            DrawerBackground = "#fffdf8",
            DrawerText = "#3b2f28",
            DrawerIcon = "#8a6d3b",
            TextPrimary = "#2b211c",
            TextSecondary = "#6b5d52",
            LinesDefault = "#eadfcd",
            Divider = "#eadfcd",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = SystemFonts },
        },
        LayoutProperties = new LayoutProperties
        {
            DefaultBorderRadius = "10px",
            DrawerWidthLeft = "248px",
        },
    };
}
