using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class InventoryExpiryWatch : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "ExpiryNotifications",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CertificateKind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CertificateId = table.Column<int>(type: "INTEGER", nullable: false),
                    SetupId = table.Column<int>(type: "INTEGER", nullable: false),
                    Threshold = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Channel = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    NotAfter = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    ClaimedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    SentAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: true),
                    Attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    Error = table.Column<string>(type: "TEXT", maxLength: 500, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ExpiryNotifications", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_ExpiryNotifications_CertificateKind_CertificateId_Threshold_Channel",
                table: "ExpiryNotifications",
                columns: new[] { "CertificateKind", "CertificateId", "Threshold", "Channel" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ExpiryNotifications");
        }
    }
}
