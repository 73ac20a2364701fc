using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class DpsSetups : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "Setups",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    Name = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    UpdatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    UpdatedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    CurrentStep = table.Column<int>(type: "INTEGER", nullable: false),
                    SubscriptionId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    ResourceGroup = table.Column<string>(type: "TEXT", maxLength: 90, nullable: true),
                    DpsName = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    Location = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    IdScope = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    ServiceHost = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    DeviceHost = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    AllocationPolicy = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    LinkedHubs = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    RootCertificateId = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Setups", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "SetupCertificates",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SetupId = table.Column<int>(type: "INTEGER", nullable: false),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Subject = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                    ThumbprintSha1 = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    ThumbprintSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    NotBefore = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    NotAfter = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    Pem = table.Column<string>(type: "TEXT", nullable: false),
                    KeyId = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    DpsCertificateName = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    IsVerified = table.Column<bool>(type: "INTEGER", nullable: false),
                    CreatedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    CreatedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SetupCertificates", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SetupCertificates_Setups_SetupId",
                        column: x => x.SetupId,
                        principalTable: "Setups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SetupCertificates_SetupId",
                table: "SetupCertificates",
                column: "SetupId");

            migrationBuilder.CreateIndex(
                name: "IX_Setups_Name",
                table: "Setups",
                column: "Name",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SetupCertificates");

            migrationBuilder.DropTable(
                name: "Setups");
        }
    }
}
