using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CaRolloverFollowUp : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "CancelledAt",
                table: "CaRollovers",
                type: "TEXT",
                maxLength: 28,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "CancelledBy",
                table: "CaRollovers",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "RolloverBatches",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    RolloverId = table.Column<int>(type: "INTEGER", nullable: false),
                    BatchId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    DeviceCount = table.Column<int>(type: "INTEGER", nullable: false),
                    SignedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    KeysKeptUntil = table.Column<string>(type: "TEXT", maxLength: 28, nullable: true),
                    KeysLostAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: true),
                    ReplacedByBatchId = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_RolloverBatches", x => x.Id);
                    table.ForeignKey(
                        name: "FK_RolloverBatches_CaRollovers_RolloverId",
                        column: x => x.RolloverId,
                        principalTable: "CaRollovers",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_RolloverBatches_BatchId",
                table: "RolloverBatches",
                column: "BatchId",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_RolloverBatches_RolloverId",
                table: "RolloverBatches",
                column: "RolloverId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "RolloverBatches");

            migrationBuilder.DropColumn(
                name: "CancelledAt",
                table: "CaRollovers");

            migrationBuilder.DropColumn(
                name: "CancelledBy",
                table: "CaRollovers");
        }
    }
}
