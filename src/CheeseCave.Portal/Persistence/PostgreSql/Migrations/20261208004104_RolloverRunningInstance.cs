using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace CheeseCave.Portal.Persistence.PostgreSql.Migrations
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
                type: "text",
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
