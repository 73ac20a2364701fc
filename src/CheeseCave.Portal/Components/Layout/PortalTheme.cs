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
            LinesDefault = "#eadfcd", // outlined papers and cards, app.css's --cc-line
            Divider = "#eadfcd",

            // WCAG 2.1 AA: text in these colours (outlined chips, text alerts, text buttons, snackbars) needs 4.5:1 on
            // white and on the drawer. MudBlazor's defaults (#00c853, #ff9800, #f44336, #2196f3) reach only 1.6-3.7:1;
            // these are the same hues darkened to 5.6-6.3:1, so white text on the slightly translucent filled snackbars stays above 4.5:1.
            Success = "#276f2c",
            Warning = "#8a5300",
            Error = "#c62828",
            Info = "#1565c0",

            // Disabled ("coming soon") navigation text: the default rgba(0,0,0,0.38) gives 2.6:1 on the drawer; 5.2:1 keeps
            // it readable while still lighter than normal text.
            TextDisabled = "#756a61",
        },
        // Headings are heavier than Material's defaults (400-500): the page title (h4, and h3 on the overview) bold,
        // section and panel titles (h5, h6) semi-bold. Per-use spacing and tones stay in app.css.
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = SystemFonts },
            H3 = new H3Typography { FontWeight = "700" },
            H4 = new H4Typography { FontWeight = "700" },
            H5 = new H5Typography { FontWeight = "600" },
            H6 = new H6Typography { FontWeight = "600" },
        },
        LayoutProperties = new LayoutProperties
        {
            DefaultBorderRadius = "10px",
            DrawerWidthLeft = "248px",
        },
    };
}
