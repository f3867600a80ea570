"""gammarules.makers"""
