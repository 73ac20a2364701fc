using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class CaRollover : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "CaRollovers",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    SetupId = table.Column<int>(type: "INTEGER", nullable: false),
                    StartedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    StartedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    Stage = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    GroupMode = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    OldRootId = table.Column<int>(type: "INTEGER", nullable: false),
                    NewRootId = table.Column<int>(type: "INTEGER", nullable: false),
                    OldGroupId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    NewGroupId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    ReissuedCount = table.Column<int>(type: "INTEGER", nullable: false),
                    RunningStep = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    RunningSince = table.Column<string>(type: "TEXT", maxLength: 28, nullable: true),
                    UpdatedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: false),
                    FinishedAt = table.Column<string>(type: "TEXT", maxLength: 28, nullable: true),
                    FinishedBy = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CaRollovers", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CaRollovers_Setups_SetupId",
                        column: x => x.SetupId,
                        principalTable: "Setups",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_CaRollovers_OpenPerSetup",
                table: "CaRollovers",
                column: "SetupId",
                unique: true,
                filter: "\"FinishedAt\" IS NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "CaRollovers");
        }
    }
}
