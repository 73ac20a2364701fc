using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class RolloverRunningInstance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "RunningInstance",
                table: "CaRollovers",
                type: "TEXT",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "RunningInstance",
                table: "CaRollovers");
        }
    }
}
