using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class SetupDevices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SetupDevices",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SetupId = table.Column<int>(type: "INTEGER", nullable: false),
                    RegistrationId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    ThumbprintSha1 = table.Column<string>(type: "TEXT", maxLength: 40, nullable: false),
                    ThumbprintSha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    NotBefore = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    NotAfter = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    CertificatePem = table.Column<string>(type: "TEXT", nullable: false),
                    ChainPem = table.Column<string>(type: "TEXT", nullable: false),
                    BatchId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    IssuedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    IssuedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SetupDevices", x => x.Id);
                    table.ForeignKey(
                        name: "FK_SetupDevices_Setups_SetupId",
                        column: x => x.SetupId,
                        principalTable: "Setups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_SetupDevices_SetupId_BatchId",
                table: "SetupDevices",
                columns: new[] { "SetupId", "BatchId" });

            migrationBuilder.CreateIndex(
                name: "IX_SetupDevices_SetupId_RegistrationId",
                table: "SetupDevices",
                columns: new[] { "SetupId", "RegistrationId" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SetupDevices");
        }
    }
}
